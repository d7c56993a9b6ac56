package drill_test

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/personalization/platform/components/dbbackup"
	"github.com/personalization/platform/drill"
	"github.com/personalization/platform/graph"
	"github.com/personalization/platform/infra"
	"github.com/personalization/platform/offline"
	"github.com/personalization/platform/stacks"
)

// The servers every test of this binary shares: starting PostgreSQL and
// seeding it cost seconds.
var (
	job    *drill.Job
	server *drill.Postgres
	store  *drill.S3
)

const (
	source = "personalization"
	// other is a real database, but not the service's: a job pointed at
	// it dumps and uploads fine, and the drill must still fail.
	other = "reporting"
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx := context.Background()
	var err error
	if job, err = productionJob(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// Not skips: a missing server or client fails, saying how to fix it.
	if _, err := drill.CheckAWSCLI(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if server, err = drill.StartPostgres(ctx, job.PostgresMajor); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer server.Stop()
	if err := seed(ctx, server); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if store, err = drill.StartS3(job.Upload.Env["BACKUP_BUCKET"]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer store.Close()
	return m.Run()
}

// productionJob reads the dump job off the production stack's render.
func productionJob() (*drill.Job, error) {
	g, err := offline.Run(infra.Program, offline.Options{Stack: "production"})
	if err != nil {
		return nil, err
	}
	var found []*graph.Resource
	for _, r := range g.OfType("kubernetes:batch/v1:CronJob") {
		if name, _ := r.Lookup("metadata.name"); name == dbbackup.Name {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		return nil, fmt.Errorf("production renders %d %s CronJobs, want 1", len(found), dbbackup.Name)
	}
	return drill.JobOf(found[0])
}

// seed makes the service's database: users, their events with JSON
// payloads, recommendations with a composite key, a sequence in use, an
// index and a foreign key — what pg_restore has to put back in order.
func seed(ctx context.Context, pg *drill.Postgres) error {
	for _, stmt := range []struct{ db, sql string }{
		{"postgres", "CREATE DATABASE " + source},
		{"postgres", "CREATE DATABASE " + other},
		{source, `
CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, created_at timestamptz NOT NULL);
CREATE TABLE events (id bigserial PRIMARY KEY, user_id bigint NOT NULL REFERENCES users(id), kind text NOT NULL, payload jsonb NOT NULL, at timestamptz NOT NULL);
CREATE INDEX events_user_at ON events (user_id, at);
CREATE TABLE recommendations (user_id bigint NOT NULL REFERENCES users(id), item_id bigint NOT NULL, score double precision NOT NULL, PRIMARY KEY (user_id, item_id));
INSERT INTO users (email, created_at)
  SELECT 'user' || i || '@example.com', timestamptz '2026-01-01' + i * interval '1 minute' FROM generate_series(1, 20000) i;
INSERT INTO events (user_id, kind, payload, at)
  SELECT 1 + i % 20000, (ARRAY['view', 'click', 'purchase'])[1 + i % 3],
         jsonb_build_object('item', i % 5000, 'session', md5(i::text), 'tags', jsonb_build_array('a', i % 7)),
         timestamptz '2026-06-01' + i * interval '1 second'
  FROM generate_series(1, 300000) i;
INSERT INTO recommendations SELECT u, item, ((u * 31 + item) % 1000) / 1000.0 FROM generate_series(1, 20000) u, generate_series(1, 5) item;
ANALYZE;`},
		{other, `CREATE TABLE reports (id int PRIMARY KEY, title text); INSERT INTO reports VALUES (1, 'weekly');`},
	} {
		if _, err := pg.SQL(ctx, stmt.db, stmt.sql); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
	}
	return nil
}

func newDrill(t testing.TB) *drill.Drill {
	return &drill.Drill{Job: job, Postgres: server, S3: store, Source: source, WorkDir: t.TempDir()}
}

// TestRestoreDrill: the production job's dump restores whole, every table
// equal to the source, and the upload went where and how the job says.
func TestRestoreDrill(t *testing.T) {
	res, err := newDrill(t).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Bucket != job.Upload.Env["BACKUP_BUCKET"] || !regexp.MustCompile(`^production/\d{8}T\d{6}Z\.dump$`).MatchString(res.Key) {
		t.Errorf("uploaded to s3://%s/%s, want the backup bucket under production/<UTC timestamp>.dump", res.Bucket, res.Key)
	}
	for _, table := range []string{"public.users", "public.events", "public.recommendations"} {
		if res.Tables[table].Rows == 0 {
			t.Errorf("%s restored empty: %v", table, res.Tables)
		}
	}
	encrypted := false
	for _, w := range store.Writes() {
		if strings.HasSuffix(w.Path, res.Key) && w.Algorithm == "aws:kms" && w.KeyID == job.Upload.Env["KMS_KEY_ARN"] {
			encrypted = true
		}
	}
	if !encrypted {
		t.Errorf("no write of %s asked for SSE-KMS with %s: %+v", res.Key, job.Upload.Env["KMS_KEY_ARN"], store.Writes())
	}
	// Measured, not asserted: the figures the RTO estimate rests on.
	db := stacks.Defaults(stacks.Production).Database
	rate := res.RestoreBytesPerSecond()
	t.Logf("database %.1f MiB, dump %.1f MiB; dump %v, upload %v, download %v, restore %v: %.1f MiB/s restored",
		mib(res.DatabaseBytes), mib(res.DumpBytes), res.Dump, res.Upload, res.Download, res.Restore, rate/(1<<20))
	for _, gib := range []int{db.AllocatedStorageGiB, db.MaxAllocatedStorageGiB} {
		t.Logf("at this rate, a %d GiB production database restores from a dump in %.1f h (RTO 4 h)", gib, float64(gib)*(1<<30)/rate/3600)
	}
}

// TestRestoreDrillFailsOnBrokenDumps: the drill is worth something only
// if a broken backup fails it.
func TestRestoreDrillFailsOnBrokenDumps(t *testing.T) {
	tests := []struct {
		name   string
		break_ func(d *drill.Drill)
		want   string
	}{
		{"truncated object", func(d *drill.Drill) {
			d.AfterUpload = func(bucket, key string) error {
				body, err := store.Object(bucket, key)
				if err != nil {
					return err
				}
				return store.Replace(bucket, key, body[:len(body)/2])
			}
		}, "restore"},
		{"empty object", func(d *drill.Drill) {
			d.AfterUpload = func(bucket, key string) error { return store.Replace(bucket, key, nil) }
		}, "restore"},
		{"dump of the wrong database", func(d *drill.Drill) { d.DumpFrom = other }, "differs from the source"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDrill(t)
			tt.break_(d)
			_, err := d.Run(context.Background())
			if err == nil {
				t.Fatal("the drill passed on a broken dump")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to name %q", err, tt.want)
			}
		})
	}
}

// BenchmarkRestoreDrill reports dump and restore throughput in MiB of
// database per second.
func BenchmarkRestoreDrill(b *testing.B) {
	var dump, restore float64
	for b.Loop() {
		res, err := newDrill(b).Run(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		dump += mib(res.DatabaseBytes) / res.Dump.Seconds()
		restore += res.RestoreBytesPerSecond() / (1 << 20)
	}
	b.ReportMetric(dump/float64(b.N), "MiB/s-dump")
	b.ReportMetric(restore/float64(b.N), "MiB/s-restore")
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }
