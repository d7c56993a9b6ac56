package monitoring

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// Receivers are Alertmanager's webhook receivers; empty URLs are unset.
type Receivers struct {
	PagingURL, ChatURL string
}

// Routing says, in a line, where alerts go: the stack exports it, so a stack
// that routes to nowhere says so.
func (r Receivers) Routing() string {
	paging, chat := "paging", "chat"
	if r.PagingURL == "" {
		paging = "null (alertmanagerPagingWebhook unset)"
	}
	if r.ChatURL == "" {
		chat = "null (alertmanagerChatWebhook unset)"
	}
	return fmt.Sprintf("critical → %s; warning → %s", paging, chat)
}

type amConfig struct {
	Route     amRoute      `yaml:"route"`
	Receivers []amReceiver `yaml:"receivers"`
}

type amRoute struct {
	Receiver       string    `yaml:"receiver"`
	GroupBy        []string  `yaml:"group_by,omitempty"`
	GroupWait      string    `yaml:"group_wait,omitempty"`
	GroupInterval  string    `yaml:"group_interval,omitempty"`
	RepeatInterval string    `yaml:"repeat_interval,omitempty"`
	Matchers       []string  `yaml:"matchers,omitempty"`
	Routes         []amRoute `yaml:"routes,omitempty"`
}

type amReceiver struct {
	Name           string      `yaml:"name"`
	WebhookConfigs []amWebhook `yaml:"webhook_configs,omitempty"`
}

type amWebhook struct {
	URL          string `yaml:"url"`
	SendResolved bool   `yaml:"send_resolved"`
}

// AlertmanagerConfig is alertmanager.yaml: critical alerts to the paging
// receiver, warnings to the chat receiver, kube-prometheus-stack's
// Watchdog and anything unrouted to the null receiver. It holds the
// webhook URLs, so it only ever travels as a secret.
func AlertmanagerConfig(r Receivers) (string, error) {
	receivers := []amReceiver{{Name: "null"}}
	route := func(severity, name, url string) amRoute {
		if url == "" {
			return amRoute{Receiver: "null", Matchers: []string{fmt.Sprintf("severity=%q", severity)}}
		}
		receivers = append(receivers, amReceiver{Name: name, WebhookConfigs: []amWebhook{{URL: url, SendResolved: true}}})
		return amRoute{Receiver: name, Matchers: []string{fmt.Sprintf("severity=%q", severity)}}
	}
	cfg := amConfig{
		Route: amRoute{
			Receiver:       "null",
			GroupBy:        []string{"alertname", "namespace", "service"},
			GroupWait:      "30s",
			GroupInterval:  "5m",
			RepeatInterval: "4h",
			Routes: []amRoute{
				{Receiver: "null", Matchers: []string{`alertname="Watchdog"`}},
				route("critical", "paging", r.PagingURL),
				route("warning", "chat", r.ChatURL),
			},
		},
		Receivers: receivers,
	}
	b, err := yaml.Marshal(cfg)
	if err != nil {
		return "", fmt.Errorf("alertmanager config: %w", err)
	}
	return string(b), nil
}
