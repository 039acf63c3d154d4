package emotion

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// dataset is one labelled split in memory.
type dataset struct {
	texts []string
	ys    []int
}

// task describes one public data set and how to read its splits.
type task struct {
	name   string   // model name
	title  string   // data set name for reports
	labels []string // class names
	macro  bool     // choose offsets for macro-F1 (else accuracy)
	read   func(dataDir, split string) (dataset, error)
}

// Label sets of the shipped models.
var (
	abuseLabels     = []string{"clean", "offensive"}
	sentimentLabels = []string{"negative", "positive"}
	emotionLabels   = []string{"neutral", "angry", "happy", "sad", "fear", "surprise"}
	emotionEnLabels = []string{"neutral", "anger", "fear", "sadness", "satisfaction"}
)

func tasks() []task {
	return []task{
		{name: "abuse", title: "COLD", labels: abuseLabels, read: readCOLD},
		{name: "sentiment", title: "ChnSentiCorp", labels: sentimentLabels, read: readLabelText("chnsenticorp", 2)},
		{name: "emotion", title: "SMP2020-EWECT usual", labels: emotionLabels, macro: true, read: readLabelText("smp2020_ewect/usual", 6)},
		{name: "emotion_en", title: "GoEmotions (mapped)", labels: emotionEnLabels, macro: true, read: readGoEmotions},
	}
}

// readCOLD reads cold/<split>.csv (",split,topic,label[,fine-grained-label],TEXT").
func readCOLD(dataDir, split string) (dataset, error) {
	path := filepath.Join(dataDir, "cold", split+".csv")
	f, err := os.Open(path)
	if err != nil {
		return dataset{}, fmt.Errorf("emotion: read %s: %w", path, err)
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReader(f))
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	recs, err := r.ReadAll()
	if err != nil {
		return dataset{}, fmt.Errorf("emotion: parse %s: %w", path, err)
	}
	if len(recs) == 0 {
		return dataset{}, fmt.Errorf("emotion: parse %s: empty", path)
	}
	head := recs[0]
	li, ti := -1, -1
	for i, h := range head {
		switch strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")) {
		case "label":
			li = i
		case "TEXT":
			ti = i
		}
	}
	if li < 0 || ti < 0 {
		return dataset{}, fmt.Errorf("emotion: parse %s: no label or TEXT column", path)
	}
	var d dataset
	for n, rec := range recs[1:] {
		if len(rec) <= max(li, ti) {
			return dataset{}, fmt.Errorf("emotion: parse %s: line %d has %d fields", path, n+2, len(rec))
		}
		y, err := strconv.Atoi(strings.TrimSpace(rec[li]))
		if err != nil || y < 0 || y > 1 {
			return dataset{}, fmt.Errorf("emotion: parse %s: line %d: bad label %q", path, n+2, rec[li])
		}
		d.texts = append(d.texts, rec[ti])
		d.ys = append(d.ys, y)
	}
	return d, nil
}

// readLabelText returns a reader of <dir>/<split>.tsv with a header and rows
// "label<TAB>text", labels in [0, classes).
func readLabelText(dir string, classes int) func(dataDir, split string) (dataset, error) {
	return func(dataDir, split string) (dataset, error) {
		path := filepath.Join(dataDir, dir, split+".tsv")
		var d dataset
		err := eachLine(path, func(n int, line string) error {
			if n == 1 && strings.HasPrefix(line, "label") {
				return nil
			}
			lab, txt, ok := strings.Cut(line, "\t")
			if !ok {
				return fmt.Errorf("line %d: no tab", n)
			}
			y, err := strconv.Atoi(strings.TrimSpace(lab))
			if err != nil || y < 0 || y >= classes {
				return fmt.Errorf("line %d: bad label %q", n, lab)
			}
			d.texts = append(d.texts, txt)
			d.ys = append(d.ys, y)
			return nil
		})
		return d, err
	}
}

// goEmotionGroup maps the 28 GoEmotions labels (by their order in
// labels.txt) to the five customer-service groups; -1 means "no group".
var goEmotionGroup = map[string]int{
	"neutral": 0,
	"anger":   1, "annoyance": 1, "disgust": 1, "disapproval": 1,
	"fear": 2, "nervousness": 2,
	"sadness": 3, "grief": 3, "disappointment": 3, "remorse": 3,
	"admiration": 4, "amusement": 4, "approval": 4, "gratitude": 4, "joy": 4, "love": 4,
	"optimism": 4, "pride": 4, "relief": 4, "excitement": 4, "caring": 4,
}

// readGoEmotions reads goemotions/<split>.tsv ("text<TAB>ids<TAB>id") and
// keeps the comments whose mapped labels agree on exactly one group.
func readGoEmotions(dataDir, split string) (dataset, error) {
	var names []string
	lpath := filepath.Join(dataDir, "goemotions", "labels.txt")
	if err := eachLine(lpath, func(_ int, line string) error {
		if s := strings.TrimSpace(line); s != "" {
			names = append(names, s)
		}
		return nil
	}); err != nil {
		return dataset{}, err
	}
	path := filepath.Join(dataDir, "goemotions", split+".tsv")
	var d dataset
	err := eachLine(path, func(n int, line string) error {
		parts := strings.Split(line, "\t")
		if len(parts) < 2 {
			return fmt.Errorf("line %d: %d fields", n, len(parts))
		}
		group := -1
		for _, id := range strings.Split(parts[1], ",") {
			k, err := strconv.Atoi(strings.TrimSpace(id))
			if err != nil || k < 0 || k >= len(names) {
				return fmt.Errorf("line %d: bad label %q", n, id)
			}
			g, ok := goEmotionGroup[names[k]]
			if !ok {
				continue
			}
			if group >= 0 && group != g {
				return nil // conflicting groups: skip the comment
			}
			group = g
		}
		if group >= 0 {
			d.texts = append(d.texts, parts[0])
			d.ys = append(d.ys, group)
		}
		return nil
	})
	return d, err
}

func eachLine(path string, fn func(n int, line string) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("emotion: read %s: %w", path, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimRight(sc.Text(), "\r")
		if n == 1 {
			line = strings.TrimPrefix(line, "\ufeff")
		}
		if line == "" {
			continue
		}
		if err := fn(n, line); err != nil {
			return fmt.Errorf("emotion: parse %s: %w", path, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("emotion: read %s: %w", path, err)
	}
	return nil
}
