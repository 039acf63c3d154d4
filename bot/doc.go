// Package bot is Starpost's customer-service bot: an engine that answers
// the conversations of bot queues from the workspace's knowledge base and
// hands them over to people when it cannot help.
//
// Intent model (Model, Train): every published FAQ is an intent and its
// question variants are the training examples. Features are TF-IDF word
// 1-2 grams and character 1-5 grams (package text: gse segmentation for
// Chinese, Snowball stemming for English); the classifier is a one-vs-rest
// linear SVM. Its decision values become probabilities by temperature
// scaling: a softmax whose temperature is fitted, by minimising the
// negative log-likelihood, on out-of-fold decision values of a 3-fold
// cross-validation of the training data (scores of questions a model was
// trained on are overconfident, so they cannot be used). Out-of-scope
// detection compares a message with the nearest training question of the
// predicted intent: below a similarity that 95 % of held-out in-scope
// questions reach (fitted on the same folds, floored at 0.2) the message is
// out of scope.
//
// Versions (Models): models are stored in the bot's own table bot_models
// (workspace, version, trained_at, fingerprint of the training data, the
// knowledge-base revision, metrics, the encoded model). The newest version
// is used; a restart loads it. When the knowledge base's revision moves, the
// current model keeps answering while the next one trains in the
// background, unless the training data's fingerprint is unchanged.
//
// Decisions (Policy.Decide) are a pure table: hand over when the customer
// asks for a person (人工, 转人工, "agent", "human", "real person" ...), is
// angry (the emotion engine's events), is out of scope or the confidence is
// very low, or after the queue's number of failed turns; ask one clarifying
// question when the two best intents are close, and understand the reply
// ("1", "第二个", or words leaning to one option); otherwise answer with the
// FAQ's answer. Engine runs it on every customer message of a conversation
// in state bot: its replies are message events of a bot participant, every
// decision is a bot.turn event, and a handover is a bot.handoff event
// (reason, intent, confidence, transcript) followed by a state change bot →
// queued, so the normal router assigns the conversation.
package bot
