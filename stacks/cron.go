package stacks

import (
	"fmt"
	"strconv"
	"strings"
)

// cronField is one field of a standard five-field cron expression.
type cronField struct {
	name     string
	min, max int
}

func cronFields() []cronField {
	return []cronField{{"minute", 0, 59}, {"hour", 0, 23}, {"day of month", 1, 31}, {"month", 1, 12}, {"day of week", 0, 6}}
}

// ValidateCron checks a five-field cron expression the way Kubernetes'
// CronJob controller reads it: numbers, ranges, lists and steps, with `*`.
// Names (JAN, MON) and macros (@daily) are refused to keep schedules plain.
func ValidateCron(expr string) error {
	fields := strings.Fields(expr)
	if len(fields) != 5 {
		return fmt.Errorf("has %d fields, want 5", len(fields))
	}
	for i, f := range cronFields() {
		if err := validateCronField(fields[i], f); err != nil {
			return fmt.Errorf("%s %q: %w", f.name, fields[i], err)
		}
	}
	return nil
}

func validateCronField(field string, f cronField) error {
	for _, part := range strings.Split(field, ",") {
		rangePart, step, hasStep := strings.Cut(part, "/")
		if hasStep {
			n, err := strconv.Atoi(step)
			if err != nil || n < 1 || n > f.max {
				return fmt.Errorf("step %q is not from 1 to %d", step, f.max)
			}
		}
		if rangePart == "*" {
			continue
		}
		lo, hi, isRange := strings.Cut(rangePart, "-")
		if !isRange {
			hi = lo
		}
		a, err := cronNumber(lo, f)
		if err != nil {
			return err
		}
		b, err := cronNumber(hi, f)
		if err != nil {
			return err
		}
		if a > b {
			return fmt.Errorf("range %d-%d runs backwards", a, b)
		}
	}
	return nil
}

func cronNumber(s string, f cronField) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < f.min || n > f.max {
		return 0, fmt.Errorf("%q is not a number from %d to %d", s, f.min, f.max)
	}
	return n, nil
}
