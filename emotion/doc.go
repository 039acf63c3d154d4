// Package emotion scores customer messages for sentiment, emotion and abuse,
// and follows the emotional trend of a conversation.
//
// The models are classical: hashed TF-IDF features over character n-grams
// (which carry most of the signal in short Chinese social text) plus a small
// block of lexicon features (insults, intensifiers, negation, repeated
// exclamation and question marks, emoji), fed to LIBLINEAR-style linear SVMs
// from package text with temperature-calibrated probabilities. Weights are
// quantised to 8 bits and the model files are gzip-compressed gob, embedded
// in the binary with go:embed, so no data or weights are fetched at run time.
//
// Four models ship: abuse (COLD, Chinese offensive language), sentiment
// (ChnSentiCorp, Chinese reviews), emotion (SMP2020-EWECT usual, Chinese
// Weibo, six classes) and English emotion (GoEmotions mapped to anger,
// fear, sadness, satisfaction and neutral). Train rebuilds them from the
// public data sets; Eval measures them on the test splits.
package emotion
