// Package text is Starpost's shared text engine: Chinese and English
// tokenisation, TF-IDF features over words and character n-grams, linear
// classifiers with calibrated confidence, question-pair matching, and an
// incremental BM25 retrieval index with highlight offsets.
//
// Everything here is classical and trained on the workspace's own data; no
// model weights or data are fetched at run time. Chinese word segmentation
// uses github.com/go-ego/gse with its embedded simplified-Chinese dictionary
// (pure Go, no cgo); English stemming uses the Snowball (Porter2) stemmer from
// github.com/kljensen/snowball.
//
// A Tokenizer owns its segmenter dictionary (about a second to load) and is
// safe for concurrent use once built; build one per process or per workspace
// and share it.
package text
