package wfm

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Workload is the offered traffic of one queue in one interval.
type Workload struct {
	// Contacts is the expected number of contacts arriving in the interval.
	Contacts float64
	// Interval is the interval length.
	Interval time.Duration
	// HandleTime is the mean handle time of a contact.
	HandleTime time.Duration
	// Patience is the mean customer patience (time before abandoning);
	// zero means customers never abandon (Erlang C).
	Patience time.Duration
}

// Validate reports whether the workload is usable.
func (w Workload) Validate() error {
	switch {
	case math.IsNaN(w.Contacts) || math.IsInf(w.Contacts, 0) || w.Contacts < 0:
		return fmt.Errorf("wfm: contacts %v must be finite and non-negative", w.Contacts)
	case w.Interval <= 0:
		return errors.New("wfm: interval must be positive")
	case w.HandleTime <= 0:
		return errors.New("wfm: handle time must be positive")
	case w.Patience < 0:
		return errors.New("wfm: patience must not be negative")
	}
	return nil
}

// Erlangs returns the offered load λ·AHT in Erlangs.
func (w Workload) Erlangs() float64 {
	return w.Contacts * w.HandleTime.Seconds() / w.Interval.Seconds()
}

// rates returns λ, μ, θ per second.
func (w Workload) rates() (lambda, mu, theta float64) {
	lambda = w.Contacts / w.Interval.Seconds()
	mu = 1 / w.HandleTime.Seconds()
	if w.Patience > 0 {
		theta = 1 / w.Patience.Seconds()
	}
	return
}

// Performance is the steady-state behaviour of a queue with a given number
// of agents.
type Performance struct {
	// Agents is the number of agents (servers) answering.
	Agents int
	// PWait is the probability that an arriving contact waits at all.
	PWait float64
	// ServiceLevel is the fraction of arriving contacts answered within the
	// service-level threshold (answered within T / offered).
	ServiceLevel float64
	// ASA is the mean time in queue over all arriving contacts (those
	// that abandon count with the time they waited).
	ASA time.Duration
	// Abandon is the fraction of arriving contacts that abandon.
	Abandon float64
	// Occupancy is the fraction of agent time spent handling contacts.
	Occupancy float64
}

// ErlangB returns the Erlang B blocking probability for n servers and
// offered load a Erlangs, by the stable recursion B(k) = aB(k-1)/(k+aB(k-1)).
func ErlangB(n int, a float64) float64 {
	b := 1.0
	for k := 1; k <= n; k++ {
		b = a * b / (float64(k) + a*b)
	}
	return b
}

// ErlangC returns the Erlang C (M/M/n) performance of the workload with n
// agents and service-level threshold answerWithin. Patience is ignored. An
// unstable queue (load ≥ agents) has PWait 1, service level 0 and infinite
// ASA (math.MaxInt64 duration).
func ErlangC(w Workload, n int, answerWithin time.Duration) (Performance, error) {
	if err := w.Validate(); err != nil {
		return Performance{}, err
	}
	if n < 1 {
		return Performance{}, fmt.Errorf("wfm: erlang C needs at least one agent, got %d", n)
	}
	a := w.Erlangs()
	p := Performance{Agents: n}
	if a >= float64(n) {
		p.PWait, p.Occupancy, p.ASA = 1, 1, time.Duration(math.MaxInt64)
		return p, nil
	}
	b := ErlangB(n, a)
	rho := a / float64(n)
	c := b / (1 - rho*(1-b))
	_, mu, _ := w.rates()
	p.PWait = c
	p.Occupancy = rho
	asa := c / (float64(n)*mu - a*mu)
	p.ASA = seconds(asa)
	p.ServiceLevel = 1 - c*math.Exp(-(float64(n)-a)*mu*answerWithin.Seconds())
	return p, nil
}

func seconds(s float64) time.Duration {
	if s > float64(math.MaxInt64)/1e9 {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(s * float64(time.Second))
}

// logPalmA returns log A(x, y) where A(x,y) = 1 + Σ_{j≥1} y^j / Π_{k=1..j}(x+k)
// = (x e^y / y^x) γ(x, y), the function of Palm's M/M/n+M model as written
// by Garnett, Mandelbaum and Reiman (2002). The series is summed in log space
// so that heavy overload (y ≫ x) does not overflow.
func logPalmA(x, y float64) float64 {
	logTerm, logSum := 0.0, 0.0 // term j=0 is 1
	for j := 1; ; j++ {
		logTerm += math.Log(y) - math.Log(x+float64(j))
		logSum = logAddExp(logSum, logTerm)
		if float64(j) > y-x && logTerm < logSum-40 {
			return logSum
		}
		if j > 10_000_000 {
			return logSum
		}
	}
}

func logAddExp(a, b float64) float64 {
	if a < b {
		a, b = b, a
	}
	return a + math.Log1p(math.Exp(b-a))
}

// ErlangA returns the Erlang A (M/M/n+M, Palm) performance of the workload
// with n agents: exponential patience with mean w.Patience. PWait and
// Abandon use the closed forms of Garnett, Mandelbaum and Reiman (2002):
//
//	P(W>0) = A·E / (1 + (A−1)·E),   P(Ab | W>0) = 1/(ρA) + 1 − 1/ρ,
//
// with E the Erlang B probability for n servers, A = A(nμ/θ, λ/θ) and
// ρ = λ/(nμ); ASA = P(Ab)/θ (Little's law on the abandonment flow). The
// service level (answered within T / offered) is computed exactly by
// uniformisation of the tagged customer's progress through the queue.
// Overloaded queues are stable, so any n ≥ 1 is allowed. With zero
// patience it falls back to ErlangC.
func ErlangA(w Workload, n int, answerWithin time.Duration) (Performance, error) {
	if err := w.Validate(); err != nil {
		return Performance{}, err
	}
	if w.Patience == 0 {
		return ErlangC(w, n, answerWithin)
	}
	if n < 1 {
		return Performance{}, fmt.Errorf("wfm: erlang A needs at least one agent, got %d", n)
	}
	lambda, mu, theta := w.rates()
	p := Performance{Agents: n}
	if lambda == 0 {
		p.ServiceLevel = 1
		return p, nil
	}
	a := lambda / mu
	e := ErlangB(n, a)
	x, y := float64(n)*mu/theta, lambda/theta
	logA := logPalmA(x, y)
	// P(W>0) = 1 / (1 + (1/E − 1)/A).
	p.PWait = 1 / (1 + (1/e-1)*math.Exp(-logA))
	rho := lambda / (float64(n) * mu)
	pabW := 1/(rho*math.Exp(logA)) + 1 - 1/rho
	pabW = min(max(pabW, 0), 1)
	p.Abandon = p.PWait * pabW
	p.ASA = seconds(p.Abandon / theta)
	p.Occupancy = min(a*(1-p.Abandon)/float64(n), 1)
	p.ServiceLevel = erlangAServiceLevel(n, lambda, mu, theta, e, logA, answerWithin.Seconds())
	return p, nil
}

// erlangAServiceLevel returns P(answered within t) for M/M/n+M. An arrival
// finds k ≥ n in system with probability π_k (PASTA) and joins the queue
// at position j = k−n+1. From position i it moves up at rate nμ+(i−1)θ
// (a service completion or an abandonment ahead) and abandons at rate θ.
// The whole initial distribution over positions is pushed through one
// uniformised chain, accumulating mass that reaches service by time t.
func erlangAServiceLevel(n int, lambda, mu, theta, erlangB, logA, t float64) float64 {
	// π_{n+j-1} / Σ_{k≥n} π_k = y^{j-1}/Π_{k=1..j-1}(x+k) / A.
	x, y := float64(n)*mu/theta, lambda/theta
	pWait := 1 / (1 + (1/erlangB-1)*math.Exp(-logA))
	var init []float64
	logTerm := 0.0
	for j := 1; ; j++ {
		if j > 1 {
			logTerm += math.Log(y) - math.Log(x+float64(j-1))
		}
		v := math.Exp(logTerm - logA)
		init = append(init, v)
		if float64(j) > y-x && v < 1e-13 {
			break
		}
		if j > 1_000_000 {
			break
		}
	}
	if t <= 0 {
		return 1 - pWait
	}
	J := len(init)
	nmu := float64(n) * mu
	rate := func(i int) float64 { return nmu + float64(i-1)*theta } // i is 1-based
	bigL := rate(J) + theta
	lt := bigL * t
	p := init
	next := make([]float64, J)
	served := 0.0 // absorbed into service after m steps
	// Poisson weights computed iteratively in log space.
	logPois := -lt
	acc, cdf := 0.0, 0.0
	for m := 0; ; m++ {
		if m > 0 {
			logPois += math.Log(lt) - math.Log(float64(m))
		}
		w := math.Exp(logPois)
		acc += w * served
		cdf += w
		if (float64(m) > lt && 1-cdf < 1e-12) || m > 50_000_000/J+int(lt)+1000 {
			break
		}
		// One uniformised step.
		served += p[0] * rate(1) / bigL
		for i := 0; i < J; i++ {
			stay := 1 - (rate(i+1)+theta)/bigL
			v := p[i] * stay
			if i+1 < J {
				v += p[i+1] * rate(i+2) / bigL
			}
			next[i] = v
		}
		p, next = next, p
	}
	return (1 - pWait) + pWait*acc
}
