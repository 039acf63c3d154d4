// Package demo creates the demo workspace a newcomer sees on first start:
// a small online shop with queues, skills and agents at two sites (the head
// office and a small-town service station).
package demo

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"strings"

	"github.com/starpost/starpost"
)

// WorkspaceName is the name of the demo workspace.
const WorkspaceName = "Demo Shop 示例商城"

// AdminEmail is the demo admin's login.
const AdminEmail = "admin@demo.starpost.local"

// Login is a user the demo created, with the password to sign in.
type Login struct {
	Email    string
	Password string
	Role     starpost.Role
	UserID   string
}

// World is what Seed created.
type World struct {
	Workspace *starpost.Workspace
	Queues    []*starpost.Queue
	Logins    []Login // the admin first, then the supervisor and the agents
}

// Agents returns the logins of the demo agents.
func (w *World) Agents() []Login {
	var out []Login
	for _, l := range w.Logins {
		if l.Role == starpost.RoleAgent {
			out = append(out, l)
		}
	}
	return out
}

// HashFunc hashes a password for storage.
type HashFunc func(password string) (string, error)

// Seed creates the demo workspace. Passwords are random and returned in
// World.Logins; they are stored only as hashes.
func Seed(ctx context.Context, dir starpost.DirectoryService, hash HashFunc) (*World, error) {
	w := &World{Workspace: &starpost.Workspace{Name: WorkspaceName}}
	if err := dir.CreateWorkspace(ctx, w.Workspace); err != nil {
		return nil, fmt.Errorf("create demo workspace: %w", err)
	}
	ws := w.Workspace.ID

	hq := &starpost.Site{WorkspaceID: ws, Name: "Hangzhou head office 杭州总部", TimeZone: "Asia/Shanghai"}
	station := &starpost.Site{WorkspaceID: ws, Name: "Lishui service station 丽水服务站", TimeZone: "Asia/Shanghai"}
	for _, s := range []*starpost.Site{hq, station} {
		if err := dir.CreateSite(ctx, s); err != nil {
			return nil, fmt.Errorf("create demo site: %w", err)
		}
	}
	skills := map[string]*starpost.Skill{}
	for _, name := range []string{"orders", "refunds", "english", "vip"} {
		s := &starpost.Skill{WorkspaceID: ws, Name: name}
		if err := dir.CreateSkill(ctx, s); err != nil {
			return nil, fmt.Errorf("create demo skill: %w", err)
		}
		skills[name] = s
	}
	team := &starpost.Team{WorkspaceID: ws, Name: "Festival team 大促小组"}
	if err := dir.CreateTeam(ctx, team); err != nil {
		return nil, fmt.Errorf("create demo team: %w", err)
	}

	w.Queues = []*starpost.Queue{
		{WorkspaceID: ws, Name: "General chat 售前咨询", Priority: 10,
			Skills:       []starpost.SkillRequired{{SkillID: skills["orders"].ID, MinLevel: 2}},
			ServiceLevel: starpost.ServiceLevel{Percent: 80, Seconds: 20}, OfferTimeout: 20, ReplyTimeout: 120,
			Overflow: []starpost.OverflowStep{{AfterSeconds: 30, MinLevelDrop: 1}, {AfterSeconds: 60, AnySite: true}}},
		{WorkspaceID: ws, Name: "Refunds 退款售后", Priority: 20,
			Skills:       []starpost.SkillRequired{{SkillID: skills["refunds"].ID, MinLevel: 3}},
			ServiceLevel: starpost.ServiceLevel{Percent: 80, Seconds: 30}, OfferTimeout: 20, ReplyTimeout: 180,
			Overflow: []starpost.OverflowStep{{AfterSeconds: 45, MinLevelDrop: 2}}},
		{WorkspaceID: ws, Name: "VIP 会员专线", Priority: 50,
			Skills:       []starpost.SkillRequired{{SkillID: skills["vip"].ID, MinLevel: 4}},
			ServiceLevel: starpost.ServiceLevel{Percent: 90, Seconds: 10}, OfferTimeout: 15, ReplyTimeout: 60},
	}
	for _, q := range w.Queues {
		if err := dir.CreateQueue(ctx, q); err != nil {
			return nil, fmt.Errorf("create demo queue: %w", err)
		}
	}

	type person struct {
		email, name string
		role        starpost.Role
		site        *starpost.Site
		skills      map[string]int
	}
	people := []person{
		{AdminEmail, "Admin 管理员", starpost.RoleAdmin, hq, nil},
		{"supervisor@demo.starpost.local", "Wang Fang 王芳", starpost.RoleSupervisor, hq, nil},
		{"li.na@demo.starpost.local", "Li Na 李娜", starpost.RoleAgent, hq, map[string]int{"orders": 5, "refunds": 4, "vip": 5}},
		{"zhang.wei@demo.starpost.local", "Zhang Wei 张伟", starpost.RoleAgent, hq, map[string]int{"orders": 4, "english": 5}},
		{"chen.jing@demo.starpost.local", "Chen Jing 陈静", starpost.RoleAgent, hq, map[string]int{"orders": 3, "refunds": 5}},
		{"liu.yang@demo.starpost.local", "Liu Yang 刘洋", starpost.RoleAgent, station, map[string]int{"orders": 3, "refunds": 2}},
		{"zhao.min@demo.starpost.local", "Zhao Min 赵敏", starpost.RoleAgent, station, map[string]int{"orders": 2, "vip": 4}},
		{"sun.li@demo.starpost.local", "Sun Li 孙丽", starpost.RoleAgent, station, map[string]int{"orders": 1, "refunds": 3}},
	}
	for _, p := range people {
		u := &starpost.User{WorkspaceID: ws, Email: p.email, Name: p.name, Role: p.role, SiteID: p.site.ID, TeamID: team.ID}
		for name, level := range p.skills {
			u.Skills = append(u.Skills, starpost.Skilled{SkillID: skills[name].ID, Level: level})
		}
		pw, err := Password()
		if err != nil {
			return nil, err
		}
		h, err := hash(pw)
		if err != nil {
			return nil, fmt.Errorf("hash demo password: %w", err)
		}
		if err := dir.CreateUser(ctx, u, h); err != nil {
			return nil, fmt.Errorf("create demo user %s: %w", p.email, err)
		}
		w.Logins = append(w.Logins, Login{Email: p.email, Password: pw, Role: p.role, UserID: u.ID})
	}
	return w, nil
}

// Password returns a random 16-character password.
func Password() (string, error) {
	var b [10]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random password: %w", err)
	}
	return strings.ToLower(base32.StdEncoding.EncodeToString(b[:])), nil
}
