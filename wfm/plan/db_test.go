package plan_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/store"
	"github.com/starpost/starpost/store/pgtest"
	"github.com/starpost/starpost/wfm/plan"
)

var pg pgtest.Shared

func TestMain(m *testing.M) {
	code := m.Run()
	pg.Stop()
	os.Exit(code)
}

// clock is a clock the test sets by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// fixture is a store with one workspace, a queue needing the skill
// "orders" and agents who have it (and one who has not).
type fixture struct {
	ctx    context.Context
	db     *store.DB
	svc    *plan.Service
	clock  *clock
	ws     string
	queue  *starpost.Queue
	agents []*starpost.User
	novice *starpost.User
}

var today = time.Date(2026, 11, 11, 10, 0, 0, 0, time.UTC) // 11.11, 10:00

// dialects are the two databases the package runs on, PostgreSQL on the
// package's shared server.
func dialects() []pgtest.Backend { return pgtest.Backends(&pg) }

func newFixture(t testing.TB, dsn string, agents int) *fixture {
	t.Helper()
	ctx := context.Background()
	c := &clock{now: today}
	db, err := store.Open(ctx, dsn, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &fixture{ctx: ctx, db: db, clock: c}
	ws := &starpost.Workspace{Name: "Shop"}
	must(t, db.CreateWorkspace(ctx, ws))
	f.ws = ws.ID
	sk := &starpost.Skill{WorkspaceID: ws.ID, Name: "orders"}
	must(t, db.CreateSkill(ctx, sk))
	f.queue = &starpost.Queue{WorkspaceID: ws.ID, Name: "Chat", Skills: []starpost.SkillRequired{{SkillID: sk.ID, MinLevel: 2}},
		ServiceLevel: starpost.ServiceLevel{Percent: 80, Seconds: 20}}
	must(t, db.CreateQueue(ctx, f.queue))
	for i := range agents {
		u := &starpost.User{WorkspaceID: ws.ID, Email: fmt.Sprintf("a%d@shop.test", i), Name: fmt.Sprintf("Agent %d", i), Role: starpost.RoleAgent,
			Skills: []starpost.Skilled{{SkillID: sk.ID, Level: 3}}}
		must(t, db.CreateUser(ctx, u, ""))
		f.agents = append(f.agents, u)
	}
	f.novice = &starpost.User{WorkspaceID: ws.ID, Email: "novice@shop.test", Name: "Novice", Role: starpost.RoleAgent,
		Skills: []starpost.Skilled{{SkillID: sk.ID, Level: 1}}}
	must(t, db.CreateUser(ctx, f.novice, ""))
	f.svc, err = plan.Open(ctx, plan.Options{SQL: db.SQL(), Driver: db.Driver(), Directory: db, Clock: c, Config: plan.Config{SolveTime: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	// The agents work flexibly (open slots are theirs to claim);
	// TestFlexibleOnly covers the others.
	yes := true
	for _, u := range append(slices.Clone(f.agents), f.novice) {
		if _, err := f.svc.UpdateAgentProfile(ctx, f.ws, u.ID, plan.AgentProfileUpdate{Flexible: &yes}); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestClaimConcurrency races claimers on SQLite and PostgreSQL: many
// agents on one slot (exactly one wins), one agent on overlapping slots
// (exactly one is taken), and the rules (skills, 10 h a day, 11 h rest).
func TestClaimConcurrency(t *testing.T) {
	for _, d := range dialects() {
		t.Run(d.Name, func(t *testing.T) {
			f := newFixture(t, d.DSN(t), 16)
			ctx := f.ctx
			start := today.Add(2 * time.Hour)
			sl, err := f.svc.OpenSlot(ctx, f.ws, f.queue.ID, start, start.Add(2*time.Hour), time.Time{})
			must(t, err)

			var wins, conflicts atomic.Int32
			var winner atomic.Value
			var wg sync.WaitGroup
			for _, a := range f.agents {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := f.svc.Claim(ctx, f.ws, a.ID, sl.ID)
					switch starpost.ErrorCode(err) {
					case "":
						wins.Add(1)
						winner.Store(a.ID)
					case starpost.ECONFLICT:
						conflicts.Add(1)
					default:
						t.Errorf("claim by %s: %v", a.ID, err)
					}
				}()
			}
			wg.Wait()
			if wins.Load() != 1 || conflicts.Load() != int32(len(f.agents)-1) {
				t.Fatalf("wins %d conflicts %d", wins.Load(), conflicts.Load())
			}
			mine, err := f.svc.MyShifts(ctx, f.ws, winner.Load().(string), today, today.Add(24*time.Hour))
			must(t, err)
			if len(mine) != 1 || !mine[0].Start.Equal(start) || mine[0].Kind != plan.KindSlot {
				t.Fatalf("winner's shifts %+v", mine)
			}

			// One agent, eight overlapping slots at once: one is taken.
			var ids []string
			for k := range 8 {
				s0 := today.Add(5*time.Hour + time.Duration(k)*15*time.Minute)
				sl, err := f.svc.OpenSlot(ctx, f.ws, f.queue.ID, s0, s0.Add(2*time.Hour), time.Time{})
				must(t, err)
				ids = append(ids, sl.ID)
			}
			agent := f.agents[1].ID
			if agent == winner.Load().(string) {
				agent = f.agents[2].ID
			}
			wins.Store(0)
			for _, id := range ids {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := f.svc.Claim(ctx, f.ws, agent, id); err == nil {
						wins.Add(1)
					} else if starpost.ErrorCode(err) != starpost.ECONFLICT {
						t.Errorf("claim %s: %v", id, err)
					}
				}()
			}
			wg.Wait()
			if wins.Load() != 1 {
				t.Fatalf("one agent took %d overlapping slots", wins.Load())
			}

			// Rules, for two agents who hold nothing yet.
			var free []string
			for _, u := range f.agents {
				if u.ID != agent && u.ID != winner.Load().(string) {
					free = append(free, u.ID)
				}
			}
			slot := func(from, to time.Duration) string {
				sl, err := f.svc.OpenSlot(ctx, f.ws, f.queue.ID, today.Add(from), today.Add(to), time.Time{})
				must(t, err)
				return sl.ID
			}
			day := slot(30*time.Minute, 8*time.Hour+30*time.Minute) // 10:30–18:30
			if _, err := f.svc.Claim(ctx, f.ws, free[0], day); err != nil {
				t.Fatalf("an 8-hour slot: %v", err)
			}
			long := slot(8*time.Hour+30*time.Minute, 11*time.Hour+30*time.Minute) // 18:30–21:30
			if _, err := f.svc.Claim(ctx, f.ws, free[0], long); starpost.ErrorCode(err) != starpost.ECONFLICT {
				t.Fatalf("an 11-hour day: %v", err)
			}
			if _, err := f.svc.Claim(ctx, f.ws, f.novice.ID, long); starpost.ErrorCode(err) != starpost.EFORBIDDEN {
				t.Fatalf("unqualified agent: %v", err)
			}
			early := slot(18*time.Hour, 20*time.Hour) // 04:00–06:00 next day
			if _, err := f.svc.Claim(ctx, f.ws, free[0], early); starpost.ErrorCode(err) != starpost.ECONFLICT {
				t.Fatalf("less than 11 h rest: %v", err)
			}
			if _, err := f.svc.Claim(ctx, f.ws, free[1], early); err != nil {
				t.Fatalf("a rested agent: %v", err)
			}
			if _, err := f.svc.OpenSlot(ctx, f.ws, f.queue.ID, today.Add(-time.Hour), today.Add(time.Hour), time.Time{}); starpost.ErrorCode(err) != starpost.EINVALID {
				t.Fatalf("a slot in the past: %v", err)
			}
			open, err := f.svc.OpenSlots(ctx, f.ws, f.novice.ID)
			must(t, err)
			if len(open) != 0 {
				t.Fatalf("the novice sees %d slots of a queue they cannot take", len(open))
			}
			if _, err := f.svc.Claim(ctx, "ws_other", agent, long); starpost.ErrorCode(err) != starpost.ENOTFOUND {
				t.Fatalf("claim from another workspace: %v", err)
			}
		})
	}
}

// BenchmarkClaim measures accepting claims (feasibility check plus the
// conditional update) with 16 agents claiming in parallel, each slot
// claimed by whoever comes first; it reports the p99 latency.
func BenchmarkClaim(b *testing.B) {
	for _, d := range []string{"sqlite", "postgres"} {
		b.Run(d, func(b *testing.B) {
			var dsn string
			if d == "sqlite" {
				dsn = filepath.Join(b.TempDir(), "starpost.db")
			} else {
				dsn = pg.Get(b).NewDatabase(b)
			}
			f := newFixture(b, dsn, 16)
			ids := make([]string, b.N)
			for i := range ids {
				// Every slot on its own day, so no rule blocks a claim.
				s0 := today.Add(time.Duration(i%2000)*24*time.Hour + 2*time.Hour)
				sl, err := f.svc.OpenSlot(f.ctx, f.ws, f.queue.ID, s0, s0.Add(time.Hour), time.Time{})
				must(b, err)
				ids[i] = sl.ID
			}
			lat := make([]time.Duration, b.N)
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			for w := range 16 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						i := next.Add(1) - 1
						if i >= int64(b.N) {
							return
						}
						t0 := time.Now()
						_, err := f.svc.Claim(f.ctx, f.ws, f.agents[w].ID, ids[i])
						lat[i] = time.Since(t0)
						if err != nil && !errors.Is(err, context.Canceled) && starpost.ErrorCode(err) != starpost.ECONFLICT {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			reportP99(b, lat)
		})
	}
}

func reportP99(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	s := slices.Clone(lat)
	slices.Sort(s)
	b.ReportMetric(float64(s[len(s)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(s[len(s)/2].Microseconds())/1000, "p50-ms")
}
