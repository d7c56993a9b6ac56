// Package drill is the restore drill: the nightly dump job's own scripts,
// read off the rendered CronJob, run against a real PostgreSQL server and an
// S3-compatible server on loopback; the uploaded dump is downloaded again
// with the same client, restored into a fresh database with pg_restore, and
// every table's row count and checksum compared with the source.
//
// It proves the chain the disaster recovery docs promise — dump, upload,
// download, restore — with the very text the platform deploys, and measures
// how fast a dump restores.
package drill

import (
	"fmt"
	"regexp"

	"github.com/personalization/platform/graph"
)

// Job is the nightly dump as the platform deploys it.
type Job struct {
	// PostgresMajor is the major version of the dump's client image, and so
	// of the server the drill restores into.
	PostgresMajor string
	Dump          Step
	Upload        Step
}

// Step is one container of the job: its shell script and the plain values
// of its environment (values from secrets, like DATABASE_URL, are the
// drill's to supply).
type Step struct {
	Script string
	Env    map[string]string
}

var postgresTag = regexp.MustCompile(`/postgres:(\d+)\.`)

// JobOf reads the job off a rendered CronJob: the pg_dump init container
// and the upload container, each a `/bin/sh -c SCRIPT`.
func JobOf(cronJob *graph.Resource) (*Job, error) {
	pod, ok := cronJob.Lookup("spec.jobTemplate.spec.template.spec")
	if !ok {
		return nil, fmt.Errorf("drill: %s has no pod template", cronJob.Name)
	}
	spec, _ := pod.(map[string]any)
	dump, err := onlyContainer(spec, "initContainers")
	if err != nil {
		return nil, err
	}
	upload, err := onlyContainer(spec, "containers")
	if err != nil {
		return nil, err
	}
	image, _ := dump["image"].(string)
	m := postgresTag.FindStringSubmatch(image)
	if m == nil {
		return nil, fmt.Errorf("drill: dump image %q is not a postgres:<major>.<minor> image", image)
	}
	j := &Job{PostgresMajor: m[1]}
	if j.Dump, err = stepOf(dump); err != nil {
		return nil, err
	}
	if j.Upload, err = stepOf(upload); err != nil {
		return nil, err
	}
	return j, nil
}

func onlyContainer(spec map[string]any, field string) (map[string]any, error) {
	list, _ := spec[field].([]any)
	if len(list) != 1 {
		return nil, fmt.Errorf("drill: the job's pod has %d %s, want 1", len(list), field)
	}
	c, _ := list[0].(map[string]any)
	return c, nil
}

func stepOf(container map[string]any) (Step, error) {
	cmd, _ := container["command"].([]any)
	if len(cmd) != 3 || cmd[0] != "/bin/sh" || cmd[1] != "-c" {
		return Step{}, fmt.Errorf("drill: container %v runs %v, want /bin/sh -c SCRIPT", container["name"], cmd)
	}
	s := Step{Script: fmt.Sprint(cmd[2]), Env: map[string]string{}}
	env, _ := container["env"].([]any)
	for _, e := range env {
		v, _ := e.(map[string]any)
		if value, ok := v["value"].(string); ok {
			s.Env[fmt.Sprint(v["name"])] = value
		}
	}
	return s, nil
}
