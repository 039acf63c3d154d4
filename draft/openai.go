package draft

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/starpost/starpost"
)

// OpenAI completes chats with an OpenAI-compatible endpoint: POST
// {URL}/chat/completions.
type OpenAI struct {
	// URL is the API base, e.g. http://localhost:11434/v1 for Ollama.
	URL string
	// Model names the model, e.g. qwen2.5:7b-instruct.
	Model string
	// APIKey, when set, is sent as a bearer token.
	APIKey string
	// Timeout bounds one completion (default 60 s).
	Timeout time.Duration
	// MaxTokens bounds the draft's length (default 400).
	MaxTokens int
	// HTTP is the client; nil is http.DefaultClient.
	HTTP *http.Client
}

type chatRequest struct {
	Model       string    `json:"model"`
	Messages    []Message `json:"messages"`
	Temperature float64   `json:"temperature"`
	MaxTokens   int       `json:"max_tokens"`
	Stream      bool      `json:"stream"`
}

type chatResponse struct {
	Choices []struct {
		Message Message `json:"message"`
	} `json:"choices"`
	Error *struct {
		Message string `json:"message"`
	} `json:"error"`
}

// maxResponse bounds what is read from the endpoint.
const maxResponse = 1 << 20

// Complete sends msgs and returns the first choice's content. Every
// failure of the endpoint (unreachable, timeout, non-2xx, malformed answer)
// is EUNAVAILABLE with the reason; the caller may retry later.
func (o *OpenAI) Complete(ctx context.Context, msgs []Message) (string, error) {
	timeout, maxTokens := o.Timeout, o.MaxTokens
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	if maxTokens <= 0 {
		maxTokens = 400
	}
	client := o.HTTP
	if client == nil {
		client = http.DefaultClient
	}
	body, err := json.Marshal(chatRequest{Model: o.Model, Messages: msgs, Temperature: 0.2, MaxTokens: maxTokens})
	if err != nil {
		return "", fmt.Errorf("draft: encode request: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(o.URL, "/")+"/chat/completions", bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("draft: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if o.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+o.APIKey)
	}
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return "", starpost.Errorf(starpost.EUNAVAILABLE, "the drafting model did not answer within %s", timeout)
		}
		return "", starpost.Errorf(starpost.EUNAVAILABLE, "the drafting model is unreachable: %v", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return "", starpost.Errorf(starpost.EUNAVAILABLE, "reading the drafting model's answer: %v", err)
	}
	var out chatResponse
	jsonErr := json.Unmarshal(raw, &out)
	if resp.StatusCode/100 != 2 {
		msg := http.StatusText(resp.StatusCode)
		if jsonErr == nil && out.Error != nil && out.Error.Message != "" {
			msg = out.Error.Message
		}
		return "", starpost.Errorf(starpost.EUNAVAILABLE, "the drafting model answered %d: %s", resp.StatusCode, cut(msg, 200))
	}
	if jsonErr != nil {
		return "", starpost.Errorf(starpost.EUNAVAILABLE, "the drafting model's answer is not chat-completion JSON: %v", jsonErr)
	}
	if len(out.Choices) == 0 {
		return "", starpost.Errorf(starpost.EUNAVAILABLE, "the drafting model answered no choice")
	}
	return out.Choices[0].Message.Content, nil
}
