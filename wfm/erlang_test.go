package wfm

import (
	"math"
	"testing"
	"time"
)

// directErlangC is the textbook Poisson-sum formula, independent of the
// Erlang B recursion used by ErlangC.
func directErlangC(n int, a float64) float64 {
	term, s := 1.0, 0.0
	for k := 0; k < n; k++ {
		if k > 0 {
			term *= a / float64(k)
		}
		s += term
	}
	top := term * a / float64(n) * float64(n) / (float64(n) - a)
	return top / (s + top)
}

func TestErlangB(t *testing.T) {
	for _, tc := range []struct {
		n    int
		a, b float64
	}{
		{1, 1, 0.5},
		{2, 2, 0.4},
		{3, 1, 1.0 / 16},
		{0, 3, 1},
	} {
		if got := ErlangB(tc.n, tc.a); math.Abs(got-tc.b) > 1e-12 {
			t.Errorf("ErlangB(%d, %g) = %g, want %g", tc.n, tc.a, got, tc.b)
		}
	}
}

func TestErlangCPublished(t *testing.T) {
	// 10 Erlangs (e.g. 200 calls per hour at 180 s), 20 s threshold:
	// the classic worked example (Call Centre Helper, "Erlang C formula made
	// simple": 14 agents give P(wait) 17.41 %, 88.84 % in 20 s), n = 11..14.
	w := Workload{Contacts: 200, Interval: time.Hour, HandleTime: 180 * time.Second}
	for _, tc := range []struct {
		n              int
		pwait, sl, asa float64
	}{
		{11, 0.6821, 0.3896, 122.8},
		{12, 0.4494, 0.6402, 40.4},
		{13, 0.2853, 0.7956, 17.1},
		{14, 0.1741, 0.8884, 7.8},
	} {
		p, err := ErlangC(w, tc.n, 20*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(p.PWait-tc.pwait) > 5e-4 || math.Abs(p.ServiceLevel-tc.sl) > 5e-4 {
			t.Errorf("n=%d: PWait %.4f SL %.4f, want %.4f %.4f", tc.n, p.PWait, p.ServiceLevel, tc.pwait, tc.sl)
		}
		if math.Abs(p.ASA.Seconds()-tc.asa) > 0.05 {
			t.Errorf("n=%d: ASA %.2fs, want %.1fs", tc.n, p.ASA.Seconds(), tc.asa)
		}
		if d := directErlangC(tc.n, 10); math.Abs(d-p.PWait) > 1e-12 {
			t.Errorf("n=%d: recursion %v, direct sum %v", tc.n, p.PWait, d)
		}
	}
}

// birthDeath computes M/M/n+M measures from the truncated stationary
// distribution of the birth–death chain, independently of the closed forms.
func birthDeath(n int, lambda, mu, theta float64) (pwait, abandon, asa float64) {
	pi := []float64{1}
	for k := 1; k < n+20000; k++ {
		death := float64(min(k, n))*mu + float64(max(k-n, 0))*theta
		pi = append(pi, pi[k-1]*lambda/death)
		if k > n && pi[k] < 1e-300 {
			break
		}
	}
	var tot, wait, q float64
	for k, v := range pi {
		tot += v
		if k >= n {
			wait += v
			q += float64(k-n) * v
		}
	}
	eq := q / tot
	return wait / tot, theta * eq / lambda, eq / lambda
}

func TestErlangAAgainstBirthDeath(t *testing.T) {
	for _, tc := range []struct {
		calls         float64
		aht, patience time.Duration
		agents        int
	}{
		{100, 180 * time.Second, 120 * time.Second, 8},
		{100, 180 * time.Second, 120 * time.Second, 3},
		{1000, 300 * time.Second, 60 * time.Second, 80},
		{1000, 300 * time.Second, 600 * time.Second, 90},
		{5, 240 * time.Second, 30 * time.Second, 1},
	} {
		w := Workload{Contacts: tc.calls, Interval: time.Hour, HandleTime: tc.aht, Patience: tc.patience}
		p, err := ErlangA(w, tc.agents, 20*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		l, m, th := w.rates()
		pw, ab, asa := birthDeath(tc.agents, l, m, th)
		if math.Abs(p.PWait-pw) > 1e-9 || math.Abs(p.Abandon-ab) > 1e-9 || math.Abs(p.ASA.Seconds()-asa) > 1e-6 {
			t.Errorf("%+v: got PWait %v Ab %v ASA %v, birth-death %v %v %v", tc, p.PWait, p.Abandon, p.ASA.Seconds(), pw, ab, asa)
		}
		if p.ServiceLevel < 1-p.PWait-1e-12 || p.ServiceLevel > 1-p.Abandon+1e-12 {
			t.Errorf("%+v: SL %v outside [1-PWait, 1-Abandon]", tc, p.ServiceLevel)
		}
	}
}

func TestErlangAApproachesErlangC(t *testing.T) {
	// With near-infinite patience, Erlang A service level tends to Erlang C.
	for _, n := range []int{11, 12, 14, 20} {
		w := Workload{Contacts: 200, Interval: time.Hour, HandleTime: 180 * time.Second}
		c, err := ErlangC(w, n, 20*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		w.Patience = 1e7 * time.Second
		a, err := ErlangA(w, n, 20*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(a.ServiceLevel-c.ServiceLevel) > 1e-3 || math.Abs(a.PWait-c.PWait) > 1e-3 {
			t.Errorf("n=%d: Erlang A SL %v PWait %v, Erlang C %v %v", n, a.ServiceLevel, a.PWait, c.ServiceLevel, c.PWait)
		}
	}
}

func TestSimulationMatchesErlangA(t *testing.T) {
	for i, tc := range []struct {
		erlangs float64
		agents  int
	}{
		{10, 9}, {10, 12}, {50, 50}, {50, 56},
	} {
		w := Workload{Contacts: tc.erlangs * 20, Interval: time.Hour, HandleTime: 180 * time.Second, Patience: 120 * time.Second}
		m, err := ErlangA(w, tc.agents, 20*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		s, err := Simulate(SimConfig{Workload: w, Agents: tc.agents, AnswerWithin: 20 * time.Second, Arrivals: 100_000, Warmup: 5_000, Seed: uint64(i + 7)})
		if err != nil {
			t.Fatal(err)
		}
		// Generous statistical tolerance: 3 points on SL and abandonment.
		if math.Abs(s.ServiceLevel-m.ServiceLevel) > 0.03 || math.Abs(s.Abandon-m.Abandon) > 0.03 || math.Abs(s.PWait-m.PWait) > 0.03 {
			t.Errorf("%+v: sim SL %.4f Ab %.4f PW %.4f, Erlang A %.4f %.4f %.4f", tc, s.ServiceLevel, s.Abandon, s.PWait, m.ServiceLevel, m.Abandon, m.PWait)
		}
	}
}

func TestAgentsNeeded(t *testing.T) {
	w := Workload{Contacts: 200, Interval: time.Hour, HandleTime: 180 * time.Second}
	for _, tc := range []struct {
		name   string
		w      Workload
		target Target
		want   int
	}{
		{"80/20 erlang C", w, Target{ServiceLevel: 0.8, AnswerWithin: 20 * time.Second}, 14},
		{"88/20 erlang C", w, Target{ServiceLevel: 0.88, AnswerWithin: 20 * time.Second}, 14},
		{"89/20 erlang C", w, Target{ServiceLevel: 0.89, AnswerWithin: 20 * time.Second}, 15},
		{"ASA 20s", w, Target{MaxASA: 20 * time.Second}, 13},
		{"occupancy 70%", w, Target{MaxOccupancy: 0.7}, 15},
		{"zero contacts", Workload{Interval: time.Hour, HandleTime: time.Minute}, Target{MaxASA: time.Second}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := AgentsNeeded(tc.w, tc.target)
			if err != nil {
				t.Fatal(err)
			}
			if p.Agents != tc.want {
				t.Errorf("agents %d, want %d (%+v)", p.Agents, tc.want, p)
			}
		})
	}
	// Abandonment target with patience: the answer is the smallest n that meets it.
	wa := w
	wa.Patience = 90 * time.Second
	p, err := AgentsNeeded(wa, Target{MaxAbandon: 0.03})
	if err != nil {
		t.Fatal(err)
	}
	prev, err := ErlangA(wa, p.Agents-1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if p.Abandon > 0.03 || prev.Abandon <= 0.03 {
		t.Errorf("abandon target: n=%d gives %v, n-1 gives %v", p.Agents, p.Abandon, prev.Abandon)
	}
}

func TestStaffChatAndShrinkage(t *testing.T) {
	w := Workload{Contacts: 200, Interval: time.Hour, HandleTime: 180 * time.Second}
	plan := StaffPlan{Target: Target{ServiceLevel: 0.8, AnswerWithin: 20 * time.Second}, Concurrency: 3, Shrinkage: Shrinkage{Breaks: 0.1, Absence: 0.1, Training: 0.05}}
	r, err := Staff(w, plan)
	if err != nil {
		t.Fatal(err)
	}
	// 14 conversation slots at concurrency 3 is 5 agents; 5/(1-0.25) → 7.
	if r.Agents != 5 || r.Scheduled != 7 {
		t.Errorf("agents %d scheduled %d, want 5 and 7", r.Agents, r.Scheduled)
	}
	if _, err := Staff(w, StaffPlan{Target: plan.Target, Shrinkage: Shrinkage{Breaks: 0.6, Absence: 0.5}}); err == nil {
		t.Error("shrinkage ≥ 1 accepted")
	}
}
