package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBenchSurge runs the surge replay at a tiny scale against a spawned
// server (this test binary, see TestMain) and checks that its report adds
// up: every arrival accounted for, nothing acknowledged lost or doubled in
// the store, nothing refused half-written, and a chart that is valid SVG.
func TestBenchSurge(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a server")
	}
	dir := t.TempDir()
	jsonPath, svgPath := filepath.Join(dir, "surge.json"), filepath.Join(dir, "surge.svg")
	var out, errb bytes.Buffer
	args := []string{"bench", "surge", "--scale", "0.005", "--warm", "1s", "--ramp", "1s", "--hold", "2s", "--cool", "1s",
		"--agents", "2", "--capacity", "2", "--max-waiting", "4", "--follow-ups", "1", "--callback", "1",
		"--accept", "50ms-150ms", "--think", "100ms-300ms", "--customer-think", "50ms-150ms", "--patience", "4s", "--sl-target", "2s",
		"--drain", "8s", "--json", jsonPath, "--svg", svgPath}
	if err := run(context.Background(), args, &out, &errb); err != nil {
		t.Fatalf("bench surge: %v\n%s\n%s", err, out.String(), errb.String())
	}
	t.Log(out.String())
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var r surgeResult
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		what string
		ok   bool
	}{
		{"store checked", r.StoreChecked},
		{"customers arrived", r.Arrivals > 0},
		{"every arrival accounted for", r.Arrivals == r.Started+r.Refused+r.Overloaded+r.Limited+r.Failed+r.ClientShed},
		{"every started customer reached an agent, gave up or was still waiting", r.Started == r.Assigned+r.Abandoned+r.StillWait},
		{"the waiting limit refused some", r.Refused > 0},
		{"refused customers left messages", r.Callbacks > 0 && r.Callbacks <= r.Refused},
		{"no failures", r.Failed == 0},
		{"acknowledged: each start and each callback at least", r.Acked >= r.Started+r.Callbacks},
		{"acknowledged ≤ sent", r.Acked <= r.Sent},
		{"0 lost", r.Lost == 0},
		{"0 duplicated", r.Duplicated == 0 && r.StoreDuplicates == 0 && r.DeliveryDuplicates == 0},
		{"nothing refused was stored", r.RefusedButStored == 0},
		{"stored ≥ acknowledged", r.Stored >= r.Acked},
		{"ack percentiles ordered", r.AckP50ms > 0 && r.AckP50ms <= r.AckP99ms && r.AckP99ms <= r.AckMaxms},
		{"service level is a share", r.ServiceLevel >= 0 && r.ServiceLevel <= 1},
		{"timeline", len(r.Timeline) > 0},
		{"peak RSS measured", r.PeakRSSMiB > 0},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s: no\n%s", c.what, b)
		}
	}
	var arrivals, refused int64
	for _, s := range r.Timeline {
		arrivals += int64(s.Arrivals)
		refused += int64(s.Refused)
	}
	if arrivals != r.Arrivals || refused != r.Refused {
		t.Errorf("timeline sums: %d arrivals, %d refused; totals %d, %d", arrivals, refused, r.Arrivals, r.Refused)
	}
	svg, err := os.ReadFile(svgPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := validSVG(svg); err != nil {
		t.Errorf("chart: %v", err)
	}
}

// validSVG checks that b is well-formed XML whose root is an svg element
// with polylines in it.
func validSVG(b []byte) error {
	dec := xml.NewDecoder(bytes.NewReader(b))
	root, lines := "", 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if se, ok := tok.(xml.StartElement); ok {
			if root == "" {
				root = se.Name.Local
			}
			if se.Name.Local == "polyline" {
				lines++
			}
		}
	}
	if root != "svg" || lines == 0 {
		return errors.New("not an SVG chart: root " + root)
	}
	if strings.Contains(string(b), "@import") || strings.Contains(string(b), "http://fonts") {
		return errors.New("the chart loads fonts from the network")
	}
	return nil
}

func TestSVGChart(t *testing.T) {
	for _, tc := range []struct {
		name   string
		panels []panel
	}{
		{"empty", nil},
		{"gaps and escapes", []panel{{title: `a < b & "c"`, unit: "%", lines: []series{{name: "x<y", color: "#000", y: []float64{1, nanF(), 3}}}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := svgChart("t & t", 3, tc.panels)
			err := validSVG(b)
			if len(tc.panels) > 0 && err != nil {
				t.Fatal(err)
			}
			if dec := xml.NewDecoder(bytes.NewReader(b)); dec != nil {
				for {
					if _, err := dec.Token(); err != nil {
						if !errors.Is(err, io.EOF) {
							t.Fatal(err)
						}
						break
					}
				}
			}
		})
	}
}

func nanF() float64 { var z float64; return z / z }

func TestSurgeNodes(t *testing.T) {
	tests := []struct {
		url  string
		want []string
	}{
		{"http://a", []string{"http://a", "http://a", "http://a"}},
		{"http://a, http://b,,http://c", []string{"http://a", "http://b", "http://c", "http://a"}},
	}
	for _, tt := range tests {
		o := &surgeOptions{URL: tt.url}
		for i, want := range tt.want {
			if got := o.node(i); got != want {
				t.Errorf("%q: node(%d) = %q, want %q", tt.url, i, got, want)
			}
		}
	}
}
