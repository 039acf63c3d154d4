package main

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"math"
)

// series is one line of a chart panel.
type series struct {
	name   string
	color  string
	dashed bool
	y      []float64 // one value per second; NaN leaves a gap
}

// panel is one chart of a stacked figure, sharing the time axis.
type panel struct {
	title string
	unit  string
	max   float64 // 0: from the data
	lines []series
}

// svgChart draws panels stacked over one time axis (seconds) as a
// self-contained SVG: no scripts, no web fonts, valid XML.
func svgChart(title string, seconds int, panels []panel) []byte {
	const (
		width  = 960
		left   = 70
		right  = 190
		top    = 64
		ph     = 150 // panel height
		gap    = 50
		bottom = 40
	)
	plotW := float64(width - left - right)
	height := top + len(panels)*(ph+gap) - gap + bottom
	seconds = max(seconds, 1)
	var b bytes.Buffer
	esc := func(s string) string {
		var e bytes.Buffer
		_ = xml.EscapeText(&e, []byte(s))
		return e.String()
	}
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>`+"\n")
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12" role="img" aria-label="%s">`+"\n",
		width, height, width, height, esc(title))
	fmt.Fprintf(&b, `<title>%s</title>`+"\n", esc(title))
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="#ffffff"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%d" y="22" font-size="15" font-weight="bold">%s</text>`+"\n", left, esc(title))
	x := func(t float64) float64 { return left + plotW*t/float64(seconds) }
	for i, p := range panels {
		y0 := float64(top + i*(ph+gap))
		hi := p.max
		if hi == 0 {
			for _, s := range p.lines {
				for _, v := range s.y {
					if !math.IsNaN(v) {
						hi = max(hi, v)
					}
				}
			}
			hi = niceCeil(hi)
		}
		y := func(v float64) float64 { return y0 + ph - ph*min(v, hi)/hi }
		fmt.Fprintf(&b, `<g><text x="%d" y="%.1f" font-weight="bold">%s</text>`+"\n", left, y0-8, esc(p.title+" ("+p.unit+")"))
		fmt.Fprintf(&b, `<rect x="%d" y="%.1f" width="%.1f" height="%d" fill="none" stroke="#999999"/>`+"\n", left, y0, plotW, ph)
		for k := 0; k <= 4; k++ {
			v := hi * float64(k) / 4
			fmt.Fprintf(&b, `<line x1="%d" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#e5e5e5"/>`, left, left+plotW, y(v), y(v))
			fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", left-6, y(v)+4, esc(short(v)))
		}
		for k, s := range p.lines {
			dash := ""
			if s.dashed {
				dash = ` stroke-dasharray="6 4"`
			}
			var pts bytes.Buffer
			flush := func() {
				if pts.Len() > 0 {
					fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.8"%s points="%s"/>`+"\n", s.color, dash, pts.String())
					pts.Reset()
				}
			}
			for t, v := range s.y {
				if math.IsNaN(v) {
					flush()
					continue
				}
				fmt.Fprintf(&pts, "%.1f,%.1f ", x(float64(t)+0.5), y(v))
			}
			flush()
			ly := y0 + 14 + float64(k)*18
			fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="%s" stroke-width="2"%s/><text x="%.1f" y="%.1f">%s</text>`+"\n",
				left+plotW+12, left+plotW+36, ly-4, ly-4, s.color, dash, left+plotW+42, ly, esc(s.name))
		}
		b.WriteString("</g>\n")
	}
	axisY := float64(top + len(panels)*(ph+gap) - gap)
	step := niceCeil(float64(seconds) / 10)
	for t := 0.0; t <= float64(seconds); t += step {
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, x(t), axisY+16, esc(short(t)))
	}
	fmt.Fprintf(&b, "\n"+`<text x="%.1f" y="%.1f" text-anchor="middle">seconds since the start of the replay</text>`+"\n", left+plotW/2, axisY+34)
	b.WriteString("</svg>\n")
	return b.Bytes()
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// short formats an axis value compactly.
func short(v float64) string {
	switch {
	case v >= 10000:
		return fmt.Sprintf("%.0fk", v/1000)
	case v == math.Trunc(v):
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.3g", v)
}

// surgeChart draws the surge run: arrivals and outcomes, the waiting line,
// waits and service level, over time.
func surgeChart(r *surgeResult) []byte {
	n := len(r.Timeline)
	get := func(f func(s *surgeSample) float64) []float64 {
		out := make([]float64, n)
		for i := range r.Timeline {
			out[i] = f(&r.Timeline[i])
		}
		return out
	}
	title := fmt.Sprintf("Starpost surge replay: %s, scale %g, %d agents, peak %.0f new chats/s", r.Store, r.Scale, r.Agents, r.Shape.PeakPerSecond)
	panels := []panel{
		{title: "New conversations", unit: "per second", lines: []series{
			{name: "offered", color: "#888888", dashed: true, y: get(func(s *surgeSample) float64 { return s.Offered })},
			{name: "started", color: "#1f77b4", y: get(func(s *surgeSample) float64 { return float64(s.Started) })},
			{name: "refused (503)", color: "#d62728", y: get(func(s *surgeSample) float64 { return float64(s.Refused) })},
			{name: "left a message", color: "#9467bd", y: get(func(s *surgeSample) float64 { return float64(s.Callbacks) })},
			{name: "abandoned", color: "#ff7f0e", y: get(func(s *surgeSample) float64 { return float64(s.Abandoned) })},
		}},
		{title: "Queue depth", unit: "customers waiting for an agent", lines: []series{
			{name: "waiting", color: "#2ca02c", y: get(func(s *surgeSample) float64 { return float64(s.Waiting) })},
		}},
		{title: "Time to agent", unit: "seconds, of those assigned that second", lines: []series{
			{name: "p50", color: "#1f77b4", y: get(func(s *surgeSample) float64 { return orNaN(s.WaitP50s, s.Assigned > 0) })},
			{name: "max", color: "#d62728", y: get(func(s *surgeSample) float64 { return orNaN(s.WaitMaxs, s.Assigned > 0) })},
		}},
		{title: fmt.Sprintf("Service level (reached an agent within %.0f s)", r.SLTargetS), unit: "%", max: 100, lines: []series{
			{name: "service level", color: "#17becf", y: get(func(s *surgeSample) float64 { return orNaN(100*s.ServiceLevel, s.ServiceLevel >= 0) })},
		}},
	}
	return svgChart(title, n, panels)
}

func orNaN(v float64, ok bool) float64 {
	if !ok {
		return math.NaN()
	}
	return v
}
