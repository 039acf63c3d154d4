-- A user's own settings that follow them to every device (JSON of
-- starpost.Preferences), such as masking abusive words.
ALTER TABLE users ADD COLUMN preferences TEXT NOT NULL DEFAULT '{}';
