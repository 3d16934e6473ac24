package core

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RetryTransport retries requests answered 429 or 5xx (and connection
// errors on idempotent methods) with exponential backoff, honouring
// Retry-After (seconds or an HTTP date). The request body is buffered so it
// can be replayed.
type RetryTransport struct {
	Base        http.RoundTripper
	MaxAttempts int           // default 6
	MinDelay    time.Duration // default 500ms
	MaxDelay    time.Duration // default 30s
	// Notify, when set, is told about each retry (never given bodies or headers).
	Notify func(method, path string, status int, wait time.Duration, attempt int)
}

func (t *RetryTransport) base() http.RoundTripper {
	if t.Base != nil {
		return t.Base
	}
	return http.DefaultTransport
}

// RetryAfter parses a Retry-After header value.
func RetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil && secs >= 0 {
		return time.Duration(secs * float64(time.Second)), true
	}
	if at, err := http.ParseTime(v); err == nil {
		d := at.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

func (t *RetryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	attempts, minD, maxD := t.MaxAttempts, t.MinDelay, t.MaxDelay
	if attempts <= 0 {
		attempts = 6
	}
	if minD <= 0 {
		minD = 500 * time.Millisecond
	}
	if maxD <= 0 {
		maxD = 30 * time.Second
	}
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
	}
	idempotent := req.Method != http.MethodPost && req.Method != http.MethodPatch
	delay := minD
	for attempt := 1; ; attempt++ {
		r := req.Clone(req.Context())
		if body != nil {
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.ContentLength = int64(len(body))
			r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		}
		resp, err := t.base().RoundTrip(r)
		retry, wait, status := false, delay, 0
		switch {
		case err != nil:
			// A connection error after sending may have applied a write: retry only reads.
			retry = idempotent && req.Context().Err() == nil
		case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
			retry, status = true, resp.StatusCode
			if d, ok := RetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
				wait = d
			}
		}
		if !retry || attempt >= attempts {
			return resp, err
		}
		if resp != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
			_ = resp.Body.Close()
		}
		if wait > maxD {
			wait = maxD
		}
		wait += time.Duration(rand.Int64N(int64(wait/10) + 1)) // jitter
		if t.Notify != nil {
			t.Notify(req.Method, req.URL.Path, status, wait, attempt)
		}
		if err := sleep(req.Context(), wait); err != nil {
			return nil, fmt.Errorf("%s %s: gave up waiting to retry: %w", req.Method, req.URL.Path, err)
		}
		delay *= 2
		if delay > maxD {
			delay = maxD
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
