package deploy

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
)

// DefaultHeartbeat is how often a run that is waiting on long steps says
// which (an EKS cluster or a Multi-AZ database is silent for many minutes).
const DefaultHeartbeat = 60 * time.Second

// progress tells people what the engine is doing: a line when each step
// starts and one when it ends, with its duration; at every heartbeat the
// elapsed time, the steps done and those still running; the engine's
// warnings and errors whole. Machines read the summary (--json) instead.
type progress struct {
	out   io.Writer
	now   func() time.Time
	begin time.Time
	// total is how many steps the run is expected to take (the preview's
	// changes), 0 when unknown.
	total int

	mu      sync.Mutex
	running map[string]runningStep
	done    int
}

type runningStep struct {
	op    string
	since time.Time
}

func newProgress(out io.Writer, now func() time.Time, total int) *progress {
	return &progress{out: out, now: now, begin: now(), total: total, running: map[string]runningStep{}}
}

// event prints what an engine event means for people.
func (p *progress) event(e apitype.EngineEvent) {
	if p == nil || p.out == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case e.DiagnosticEvent != nil:
		d := e.DiagnosticEvent
		if (d.Severity == "error" || d.Severity == "warning") && strings.TrimSpace(d.Message) != "" {
			prefix := d.Severity + ": "
			if d.URN != "" {
				prefix += d.URN + ": "
			}
			fmt.Fprintln(p.out, prefix+strings.TrimSpace(d.Message))
		}
	case e.ResourcePreEvent != nil:
		m := e.ResourcePreEvent.Metadata
		if !shown(m) {
			return
		}
		p.running[m.URN] = runningStep{op: string(m.Op), since: p.now()}
		fmt.Fprintf(p.out, "start   %-8s %s\n", m.Op, m.URN)
	case e.ResOutputsEvent != nil:
		p.finish("done", e.ResOutputsEvent.Metadata.URN)
	case e.ResOpFailedEvent != nil:
		p.finish("failed", e.ResOpFailedEvent.Metadata.URN)
	}
}

// shown: steps that do something; sames and plain reads stay quiet.
func shown(m apitype.StepEventMetadata) bool {
	if m.Type == "pulumi:pulumi:Stack" {
		return false
	}
	switch m.Op {
	case apitype.OpSame, apitype.OpRead:
		return false
	case apitype.OpRefresh:
		return len(m.Diffs) > 0
	}
	return true
}

func (p *progress) finish(word, urn string) {
	step, ok := p.running[urn]
	if !ok {
		return
	}
	delete(p.running, urn)
	p.done++
	fmt.Fprintf(p.out, "%-7s %-8s %s (%s)\n", word, step.op, urn, p.now().Sub(step.since).Round(100*time.Millisecond))
}

// heartbeat prints the elapsed time, what is done and what still runs,
// longest first; nothing when no step runs.
func (p *progress) heartbeat() {
	if p == nil || p.out == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.running) == 0 {
		return
	}
	now := p.now()
	urns := make([]string, 0, len(p.running))
	for urn := range p.running {
		urns = append(urns, urn)
	}
	sort.Slice(urns, func(i, j int) bool {
		a, b := p.running[urns[i]].since, p.running[urns[j]].since
		return a.Before(b) || a.Equal(b) && urns[i] < urns[j]
	})
	var names []string
	for i, urn := range urns {
		if i == 5 {
			names = append(names, fmt.Sprintf("and %d more", len(urns)-5))
			break
		}
		st := p.running[urn]
		names = append(names, fmt.Sprintf("%s %s (%s)", st.op, urn, now.Sub(st.since).Round(time.Second)))
	}
	done := fmt.Sprintf("%d steps done", p.done)
	if p.total > 0 {
		done = fmt.Sprintf("%d of %d steps done", p.done, p.total)
	}
	fmt.Fprintf(p.out, "...     %s elapsed, %s; running: %s\n", now.Sub(p.begin).Round(time.Second), done, strings.Join(names, "; "))
}

// beat runs heartbeat every interval until stop is called.
func (p *progress) beat(interval time.Duration) (stop func()) {
	if p == nil || p.out == nil || interval <= 0 {
		return func() {}
	}
	ticker := time.NewTicker(interval)
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-ticker.C:
				p.heartbeat()
			case <-quit:
				return
			}
		}
	}()
	return func() {
		ticker.Stop()
		close(quit)
		wg.Wait()
	}
}
