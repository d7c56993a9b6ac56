package stacks

// Registry is the stack's image registry: one ECR repository per service
// of the workload set.
type Registry struct {
	// KeepReleases is how many tagged images a repository keeps; older
	// ones expire.
	KeepReleases int `json:"keepReleases"`
	// UntaggedExpiryDays expires untagged images (layers of overwritten
	// builds, failed pushes) after that many days.
	UntaggedExpiryDays int `json:"untaggedExpiryDays"`
}

// Queue is the service's asynchronous work: an SQS queue with a
// dead-letter queue.
type Queue struct {
	// MaxReceiveCount is how often a message is received before it moves
	// to the dead-letter queue (SQS allows 1 to 1000).
	MaxReceiveCount int `json:"maxReceiveCount"`
	// VisibilityTimeoutSeconds hides a received message that long (0 to
	// 43200, 12 h).
	VisibilityTimeoutSeconds int `json:"visibilityTimeoutSeconds"`
	// RetentionSeconds keeps unreceived messages (60 s to 14 days); the
	// dead-letter queue keeps them 14 days.
	RetentionSeconds int `json:"retentionSeconds"`
	// OldestMessageAlarmSeconds alarms when the oldest message waits longer.
	OldestMessageAlarmSeconds int `json:"oldestMessageAlarmSeconds"`
}

// SQS's limits.
const (
	MaxVisibilityTimeoutSeconds = 12 * 3600
	MinRetentionSeconds         = 60
	MaxRetentionSeconds         = 14 * 24 * 3600
)

func defaultRegistryQueue(env Environment) (Registry, Queue) {
	r := Registry{KeepReleases: 20, UntaggedExpiryDays: 7}
	q := Queue{MaxReceiveCount: 5, VisibilityTimeoutSeconds: 60, RetentionSeconds: 4 * 24 * 3600, OldestMessageAlarmSeconds: 600}
	if env == Production {
		r.KeepReleases = 50
		q.RetentionSeconds = MaxRetentionSeconds
		q.OldestMessageAlarmSeconds = 300
	}
	return r, q
}

func validateRegistryQueue(r *Registry, q *Queue) []*FieldError {
	var errs []*FieldError
	for _, c := range []struct {
		key           string
		value, lo, hi int
	}{
		{key("registry", "keepReleases"), r.KeepReleases, 1, 1000},
		{key("registry", "untaggedExpiryDays"), r.UntaggedExpiryDays, 1, 365},
		{key("queue", "maxReceiveCount"), q.MaxReceiveCount, 1, 1000},
		{key("queue", "visibilityTimeoutSeconds"), q.VisibilityTimeoutSeconds, 0, MaxVisibilityTimeoutSeconds},
		{key("queue", "retentionSeconds"), q.RetentionSeconds, MinRetentionSeconds, MaxRetentionSeconds},
		{key("queue", "oldestMessageAlarmSeconds"), q.OldestMessageAlarmSeconds, 60, MaxRetentionSeconds},
	} {
		if err := intInRange(c.key, c.value, c.lo, c.hi); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}
