package http_test

import (
	"context"
	"testing"
	"time"

	"github.com/starpost/starpost/bot"
	sphttp "github.com/starpost/starpost/http"
)

// fakeModels has model versions for one workspace only.
type fakeModels struct{ ws string }

func (f fakeModels) Versions(ctx context.Context, ws string) ([]bot.ModelInfo, error) {
	if ws != f.ws {
		return nil, nil
	}
	return []bot.ModelInfo{{Version: 2, TrainedAt: time.Date(2026, 11, 11, 9, 0, 0, 0, time.UTC), KBRevision: 7,
		Metrics: bot.Metrics{Examples: 40, Intents: 8, CVAccuracy: 0.9}}, {Version: 1}}, nil
}

func TestBotModels(t *testing.T) {
	e := newEnv(t)
	tn := e.newTenant("acme")
	other := e.newTenant("other")
	var got sphttp.BotModelsResponse
	e.login(tn.supervisor).mustJSON("GET", "/api/v1/bot/models", nil, 200, &got)
	if got.Items == nil || len(got.Items) != 0 {
		t.Fatalf("without models: %+v", got)
	}
	e.srv.BotModels = fakeModels{ws: tn.ws.ID}
	e.login(tn.supervisor).mustJSON("GET", "/api/v1/bot/models", nil, 200, &got)
	if len(got.Items) != 2 || got.Items[0].Version != 2 || got.Items[0].Metrics.Intents != 8 {
		t.Fatalf("versions %+v", got.Items)
	}
	e.login(other.admin).mustJSON("GET", "/api/v1/bot/models", nil, 200, &got)
	if len(got.Items) != 0 {
		t.Fatalf("another tenant sees %+v", got.Items)
	}
	if r := e.login(tn.agent).do("GET", "/api/v1/bot/models", nil); r.status != 403 {
		t.Fatalf("agent: %d", r.status)
	}
}
