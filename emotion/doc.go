// Package emotion scores customer messages for sentiment, emotion and abuse,
// and follows the emotional trend of a conversation.
//
// The models are classical: hashed sublinear TF-IDF features over character
// n-grams (which carry most of the signal in short Chinese social text),
// optionally word unigrams and bigrams from the gse segmenter (stop words
// kept) and naive-Bayes term weighting (NBSVM), plus a small block of
// lexicon features (insults, intensifiers, negation, repeated exclamation
// and question marks, emoji), fed to LIBLINEAR-style linear SVMs from
// package text (class-weighted where it helps macro-F1) with per-class
// offsets and temperature-calibrated probabilities. Weights are quantised to
// 8 bits and the model files are gzip-compressed gob, embedded in the binary
// with go:embed, so no data or weights are fetched at run time. Models with
// word features need a text.Tokenizer (LoadEmbeddedWith shares one).
//
// Four models ship: abuse (COLD, Chinese offensive language), sentiment
// (ChnSentiCorp, Chinese reviews), emotion (SMP2020-EWECT usual, Chinese
// Weibo, six classes) and English emotion (GoEmotions mapped to anger,
// fear, sadness, satisfaction and neutral). Train rebuilds them from the
// public data sets (every choice made on the development splits, the
// chosen configuration refitted on train and development); Eval measures
// them on the test splits.
package emotion
