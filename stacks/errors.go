package stacks

import (
	"fmt"
	"strings"
)

// FieldError is one bad configuration value: which key, what was given, what
// is wrong with it and what would be accepted. Every validation failure is
// one FieldError, so a user reads the key to fix and the values to choose.
type FieldError struct {
	// Key is the configuration key as a user sets it, with the path inside
	// an object key: "personalization-platform:network.cidr".
	Key string
	// Value is the value given, as written (empty when the key is missing).
	Value string
	// Problem says what is wrong.
	Problem string
	// Allowed says what would be accepted.
	Allowed string
}

func (e *FieldError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("config %s: %s; allowed: %s", e.Key, e.Problem, e.Allowed)
	}
	return fmt.Sprintf("config %s = %q: %s; allowed: %s", e.Key, e.Value, e.Problem, e.Allowed)
}

// key qualifies a path inside the project namespace.
func key(path ...string) string {
	return Project + ":" + strings.Join(path, ".")
}

// oneOf renders a list of allowed values.
func oneOf[T ~string](values []T) string {
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = fmt.Sprintf("%q", v)
	}
	return "one of " + strings.Join(quoted, ", ")
}
