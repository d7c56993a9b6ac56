package drill

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Drill is one run of the chain against the servers.
type Drill struct {
	Job      *Job
	Postgres *Postgres
	S3       *S3
	// Source is the database the drill compares the restore with;
	// DumpFrom is the one the job dumps, Source unless a test says not.
	Source, DumpFrom string
	// AfterUpload runs between upload and download, to break the dump.
	AfterUpload func(bucket, key string) error
	// WorkDir holds the dump files and the CLI's home.
	WorkDir string
}

// Result is what a successful drill measured.
type Result struct {
	// Object is the uploaded dump's bucket and key.
	Bucket, Key string
	// DatabaseBytes is the source's size on disk, DumpBytes the dump's.
	DatabaseBytes, DumpBytes int64
	// Tables are the restored tables' fingerprints, equal to the source's.
	Tables                          map[string]Fingerprint
	Dump, Upload, Download, Restore time.Duration
}

// RestoreBytesPerSecond is database bytes restored per second of
// download and pg_restore: what a restore's duration scales with.
func (r *Result) RestoreBytesPerSecond() float64 {
	return float64(r.DatabaseBytes) / (r.Download + r.Restore).Seconds()
}

// Fingerprint is a table's row count and a checksum of its rows in order.
type Fingerprint struct {
	Rows     int64
	Checksum string
}

var uploaded = regexp.MustCompile(`(?m)^uploaded s3://([^/]+)/(\S+)$`)

// Run dumps, uploads, downloads, restores and compares. Any step failing,
// or any table differing, fails the drill.
func (d *Drill) Run(ctx context.Context) (*Result, error) {
	if d.DumpFrom == "" {
		d.DumpFrom = d.Source
	}
	res := &Result{}
	size, err := d.Postgres.SQL(ctx, d.Source, "SELECT pg_database_size(current_database())")
	if err != nil {
		return nil, fmt.Errorf("drill: %w", err)
	}
	if res.DatabaseBytes, err = strconv.ParseInt(size, 10, 64); err != nil {
		return nil, fmt.Errorf("drill: database size %q: %w", size, err)
	}
	dumpFile := filepath.Join(d.WorkDir, "job", "personalization.dump")
	home := filepath.Join(d.WorkDir, "home")
	for _, dir := range []string{filepath.Dir(dumpFile), home} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("drill: %w", err)
		}
	}

	// The job's own scripts with the pod's own environment; only what
	// points at the cluster's world is pointed at the drill's servers.
	start := time.Now()
	if _, err := d.step(ctx, "dump", d.Job.Dump, map[string]string{
		"DATABASE_URL": d.Postgres.URL(d.DumpFrom), "DUMP_FILE": dumpFile,
	}); err != nil {
		return nil, err
	}
	res.Dump = time.Since(start)
	if fi, err := os.Stat(dumpFile); err == nil {
		res.DumpBytes = fi.Size()
	}

	s3env := d.s3Env(home)
	s3env["DUMP_FILE"] = dumpFile
	start = time.Now()
	out, err := d.step(ctx, "upload", d.Job.Upload, s3env)
	if err != nil {
		return nil, err
	}
	res.Upload = time.Since(start)
	m := uploaded.FindStringSubmatch(out)
	if m == nil {
		return nil, fmt.Errorf("drill: upload printed no object:\n%s", out)
	}
	res.Bucket, res.Key = m[1], m[2]
	if d.AfterUpload != nil {
		if err := d.AfterUpload(res.Bucket, res.Key); err != nil {
			return nil, fmt.Errorf("drill: %w", err)
		}
	}

	// Restore as docs/disaster-recovery.md says: the same client fetches
	// the object, pg_restore loads it into a new database.
	restoreFile := filepath.Join(d.WorkDir, "restore.dump")
	start = time.Now()
	if err := d.run(ctx, "download", s3env, "aws", "s3", "cp", "s3://"+res.Bucket+"/"+res.Key, restoreFile, "--only-show-errors"); err != nil {
		return nil, err
	}
	res.Download = time.Since(start)
	target := d.Source + "_restored"
	// Each its own statement: psql runs a multi-statement command in one
	// transaction, and neither may run inside one.
	for _, stmt := range []string{"DROP DATABASE IF EXISTS " + target, "CREATE DATABASE " + target} {
		if _, err := d.Postgres.SQL(ctx, "postgres", stmt); err != nil {
			return nil, fmt.Errorf("drill: %w", err)
		}
	}
	start = time.Now()
	if err := d.run(ctx, "restore", nil, filepath.Join(d.Postgres.Bin, "pg_restore"),
		"--exit-on-error", "--no-owner", "--no-privileges", "--dbname", d.Postgres.URL(target), restoreFile); err != nil {
		return nil, err
	}
	res.Restore = time.Since(start)

	want, err := d.Postgres.Fingerprints(ctx, d.Source)
	if err != nil {
		return nil, err
	}
	got, err := d.Postgres.Fingerprints(ctx, target)
	if err != nil {
		return nil, err
	}
	if err := compare(want, got); err != nil {
		return nil, err
	}
	res.Tables = got
	return res, nil
}

// s3Env is the upload container's environment, pointed at the drill's S3
// server with throwaway credentials (the pod's come from IRSA).
func (d *Drill) s3Env(home string) map[string]string {
	return map[string]string{
		"HOME":                  home,
		"AWS_ENDPOINT_URL":      d.S3.URL,
		"AWS_ACCESS_KEY_ID":     "drill",
		"AWS_SECRET_ACCESS_KEY": "drill",
		"AWS_CONFIG_FILE":       filepath.Join(home, "config"),
	}
}

// step runs a job script with its environment, overridden where given.
func (d *Drill) step(ctx context.Context, name string, s Step, overrides map[string]string) (string, error) {
	env := map[string]string{}
	for k, v := range s.Env {
		env[k] = v
	}
	for k, v := range overrides {
		env[k] = v
	}
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", s.Script)
	cmd.Env = d.environ(env)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("drill: %s: %w\n%s", name, err, out.String())
	}
	return out.String(), nil
}

func (d *Drill) run(ctx context.Context, name string, env map[string]string, prog string, args ...string) error {
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Env = d.environ(env)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("drill: %s: %w\n%s", name, err, out)
	}
	return nil
}

// environ is a clean environment: PATH with the PostgreSQL major's
// programs first, and the given variables; nothing of the caller's AWS
// settings leaks in.
func (d *Drill) environ(env map[string]string) []string {
	list := []string{"PATH=" + d.Postgres.Bin + string(os.PathListSeparator) + os.Getenv("PATH"), "LANG=C.UTF-8"}
	for k, v := range env {
		list = append(list, k+"="+v)
	}
	return list
}

// Fingerprints are the row count and checksum of every table of a
// database, by schema-qualified name.
func (p *Postgres) Fingerprints(ctx context.Context, database string) (map[string]Fingerprint, error) {
	names, err := p.SQL(ctx, database, `SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) FROM pg_tables
		WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("drill: %w", err)
	}
	out := map[string]Fingerprint{}
	for _, table := range strings.Fields(names) {
		row, err := p.SQL(ctx, database, fmt.Sprintf(
			`SELECT count(*), md5(coalesce(string_agg(t::text, E'\n' ORDER BY t::text), '')) FROM %s t`, table))
		if err != nil {
			return nil, fmt.Errorf("drill: %w", err)
		}
		count, sum, _ := strings.Cut(row, "|")
		n, err := strconv.ParseInt(count, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("drill: %s: count %q", table, count)
		}
		out[table] = Fingerprint{Rows: n, Checksum: sum}
	}
	return out, nil
}

func compare(want, got map[string]Fingerprint) error {
	if len(want) == 0 {
		return fmt.Errorf("drill: the source database has no tables to compare")
	}
	var diffs []string
	for table, w := range want {
		g, ok := got[table]
		switch {
		case !ok:
			diffs = append(diffs, table+": missing from the restore")
		case g != w:
			diffs = append(diffs, fmt.Sprintf("%s: restored %d rows (checksum %s), source has %d (%s)", table, g.Rows, g.Checksum, w.Rows, w.Checksum))
		}
	}
	for table := range got {
		if _, ok := want[table]; !ok {
			diffs = append(diffs, table+": restored but not in the source")
		}
	}
	if len(diffs) > 0 {
		return fmt.Errorf("drill: the restore differs from the source:\n%s", strings.Join(diffs, "\n"))
	}
	return nil
}

var cliVersion = regexp.MustCompile(`aws-cli/(\d+)\.(\d+)\.`)

// CheckAWSCLI says whether the aws on PATH honours AWS_ENDPOINT_URL (1.29
// and 2.13 on): an older one would send the drill's upload to AWS itself.
func CheckAWSCLI(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "aws", "--version").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("drill: no AWS CLI on PATH (%v): the job uploads with it; install awscli", err)
	}
	m := cliVersion.FindStringSubmatch(string(out))
	if m == nil {
		return "", fmt.Errorf("drill: cannot read the AWS CLI's version from %q", out)
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	if (major == 1 && minor < 29) || (major == 2 && minor < 13) {
		return "", fmt.Errorf("drill: AWS CLI %s.%s ignores AWS_ENDPOINT_URL; the drill needs 1.29+ or 2.13+", m[1], m[2])
	}
	return strings.TrimSpace(string(out)), nil
}
