package scripts

import (
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scrolluniversity/platform/infra/pgauth"
	"github.com/scrolluniversity/platform/internal/pgtest"
	"github.com/scrolluniversity/platform/internal/toolcache"
)

const repoRoot = "../../.."

// The scripts run for real: pg_dump and pg_restore of PostgreSQL 15, the
// AWS CLI, against a PostgreSQL 15 started by the test and gofakes3 (an
// S3-compatible server built from the module proxy by tools/s3) on
// loopback. gofakes3 takes no SSE-KMS, so these runs upload without it
// (KMS_KEY_ID empty); the encryption flags are the CLI's own.

func TestShellcheck(t *testing.T) {
	bin := toolcache.Installed(t, "shellcheck", "SHELLCHECK_REQUIRED", "apt-get install shellcheck")
	files, _ := filepath.Glob("*.sh")
	if len(files) < 5 {
		t.Fatalf("found %d scripts", len(files))
	}
	if out, err := exec.Command(bin, append([]string{"--shell=sh", "--severity=style"}, files...)...).CombinedOutput(); err != nil {
		t.Errorf("shellcheck: %v\n%s", err, out)
	}
}

type env struct {
	t        *testing.T
	pg       *pgtest.Server
	s3       string
	password string
}

func (e *env) run(script, work string, asServerUser bool, vars ...string) (string, error) {
	e.t.Helper()
	path, _ := filepath.Abs(script)
	args := []string{"sh", path}
	if asServerUser {
		args = append(pgtest.As(), args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(),
		"PATH="+pgtest.Bin+":"+os.Getenv("PATH"),
		"WORK="+work,
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_DEFAULT_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true",
		"S3_ENDPOINT_URL="+e.s3, "BUCKET=backups", "PREFIX=database/test", "KMS_KEY_ID=", "RETRY_PAUSE=0",
	)
	cmd.Env = append(cmd.Env, vars...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (e *env) dumpVars(password string) []string {
	return []string{"PGHOST=127.0.0.1", "PGPORT=" + strconv.Itoa(e.pg.Port), "PGDATABASE=scrolluniversity", "PGUSER=backup", "PGPASSWORD=" + password, "PGSSLMODE=disable"}
}

func workDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chmod(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := pgtest.Chown(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// setup starts PostgreSQL with a small ScrollUniversity-like schema and
// the backup role made by backup-user.sql, and gofakes3.
func setup(t *testing.T) *env {
	t.Helper()
	pgtest.Available(t)
	toolcache.Installed(t, "aws", "S3_REQUIRED", "apt-get install awscli")
	bins := toolcache.S3(repoRoot).ForTest(t, "gofakes3 is", "S3_REQUIRED")
	e := &env{t: t, pg: pgtest.Start(t), password: "backup-Passw0rd"}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	s3 := exec.Command(bins["gofakes3"], "-backend", "memory", "-initialbucket", "backups", "-host", addr, "-quiet")
	if err := s3.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s3.Process.Kill(); s3.Wait() })
	e.s3 = "http://" + addr
	for i := 0; ; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		if i > 50 {
			t.Fatal("gofakes3 did not start")
		}
		time.Sleep(100 * time.Millisecond)
	}

	schema := `
CREATE DATABASE scrolluniversity;
\c scrolluniversity
CREATE TABLE _prisma_migrations (id text PRIMARY KEY, migration_name text, finished_at timestamptz);
INSERT INTO _prisma_migrations VALUES ('1', '0001_init', now()), ('2', '0002_courses', now());
CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL, "updatedAt" timestamp(3) NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'));
INSERT INTO users (email) SELECT 'user' || g || '@example.com' FROM generate_series(1, 250) g;
CREATE TABLE courses (id serial PRIMARY KEY, title text NOT NULL);
INSERT INTO courses (title) SELECT 'Course ' || g FROM generate_series(1, 40) g;
CREATE TABLE enrollments (user_id int REFERENCES users, course_id int REFERENCES courses);
`
	sqlFile := filepath.Join(workDir(t), "schema.sql")
	os.WriteFile(sqlFile, []byte(schema), 0o644)
	pgtest.Chown(sqlFile)
	if out, err := e.pg.Psql("postgres", "", "-f", sqlFile); err != nil {
		t.Fatalf("schema: %v\n%s", err, out)
	}
	verifier, err := pgauth.ScramVerifier(e.password, []byte("backup-salt-0001"))
	if err != nil {
		t.Fatal(err)
	}
	userSQL := filepath.Join(workDir(t), "backup-user.sql")
	os.WriteFile(userSQL, []byte(BackupUser), 0o644)
	pgtest.Chown(userSQL)
	for run := 0; run < 2; run++ { // idempotent
		if out, err := e.pg.Psql("postgres", "", "-d", "scrolluniversity", "-v", "verifier="+verifier, "-f", userSQL); err != nil {
			t.Fatalf("backup-user.sql run %d: %v\n%s", run, err, out)
		}
	}
	return e
}

func counts(t *testing.T, pg *pgtest.Server, db string) string {
	t.Helper()
	out, err := pg.Psql("postgres", "", "-d", db, "-tAc",
		"SELECT (SELECT count(*) FROM users) || ',' || (SELECT count(*) FROM courses) || ',' || (SELECT count(*) FROM _prisma_migrations)")
	if err != nil {
		t.Fatalf("counting rows of %s: %v\n%s", db, err, out)
	}
	return strings.TrimSpace(out)
}

func TestDatabaseBackupAndRestoreDrill(t *testing.T) {
	e := setup(t)
	work := workDir(t)

	if out, err := e.run("dump.sh", work, false, e.dumpVars(e.password)...); err != nil {
		t.Fatalf("dump.sh: %v\n%s", err, out)
	}
	ts, _ := os.ReadFile(filepath.Join(work, "TIMESTAMP"))
	dump := strings.TrimSpace(string(ts)) + ".dump"
	for _, f := range []string{dump, dump + ".sha256", dump + ".toc"} {
		if _, err := os.Stat(filepath.Join(work, f)); err != nil {
			t.Errorf("dump.sh did not write %s", f)
		}
	}
	if _, err := os.Stat(filepath.Join(work, dump+".partial")); err == nil {
		t.Error("dump.sh left the .partial file")
	}
	toc, _ := os.ReadFile(filepath.Join(work, dump+".toc"))
	if !strings.Contains(string(toc), "TABLE DATA public users") {
		t.Errorf("the table of contents lacks users' data:\n%s", toc)
	}

	if out, err := e.run("upload.sh", work, false); err != nil {
		t.Fatalf("upload.sh: %v\n%s", err, out)
	}

	// The dump restores into a second database with the same row counts.
	if out, err := e.pg.Psql("postgres", "", "-c", "CREATE DATABASE restored"); err != nil {
		t.Fatal(out)
	}
	restoreCmd := exec.Command(filepath.Join(pgtest.Bin, "pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
		"-h", "127.0.0.1", "-p", strconv.Itoa(e.pg.Port), "-U", "postgres", "-d", "restored", filepath.Join(work, dump))
	if out, err := restoreCmd.CombinedOutput(); err != nil {
		t.Fatalf("pg_restore into a second database: %v\n%s", err, out)
	}
	if got, want := counts(t, e.pg, "restored"), counts(t, e.pg, "scrolluniversity"); got != want || want != "250,40,2" {
		t.Errorf("restored row counts %s, original %s (want 250,40,2)", got, want)
	}

	// The drill: fetch the newest dump from S3, restore it into a
	// throwaway server, check the migrations and the key tables.
	drill := workDir(t)
	if out, err := e.run("fetch-latest.sh", drill, false); err != nil {
		t.Fatalf("fetch-latest.sh: %v\n%s", err, out)
	}
	pgtest.Chown(filepath.Join(drill, "latest.dump"))
	pgtest.Chown(filepath.Join(drill, "LATEST"))
	fresh := []string{"FRESH_TABLE=users", "FRESH_COLUMN=updatedAt", "FRESH_MAX_HOURS=48"}
	out, err := e.run("restore-drill.sh", drill, true, append(fresh, "DRILL_TABLES=users courses")...)
	if err != nil || !strings.Contains(out, "users has 250 rows") || !strings.Contains(out, "2 migrations applied") ||
		!regexp.MustCompile(`the newest users.updatedAt is \d+ s older than the dump`).MatchString(out) || !regexp.MustCompile(`applied, in \d+ s`).MatchString(out) {
		t.Fatalf("restore-drill.sh: %v\n%s", err, out)
	}

	// A dump of a database nobody writes to any more (the old instance
	// after a point-in-time restore): its newest row is days older than
	// the dump, and the drill says so.
	if out, err := e.pg.Psql("postgres", "", "-d", "scrolluniversity", "-c", `UPDATE users SET "updatedAt" = "updatedAt" - interval '5 days'`); err != nil {
		t.Fatal(out)
	}
	stale := workDir(t)
	if out, err := e.run("dump.sh", stale, false, e.dumpVars(e.password)...); err != nil {
		t.Fatalf("dump.sh: %v\n%s", err, out)
	}
	staleTS, _ := os.ReadFile(filepath.Join(stale, "TIMESTAMP"))
	os.Rename(filepath.Join(stale, strings.TrimSpace(string(staleTS))+".dump"), filepath.Join(stale, "latest.dump"))
	os.WriteFile(filepath.Join(stale, "LATEST"), []byte(strings.TrimSpace(string(staleTS))+".dump\n"), 0o644)
	pgtest.Chown(filepath.Join(stale, "latest.dump"))
	pgtest.Chown(filepath.Join(stale, "LATEST"))
	out, err = e.run("restore-drill.sh", stale, true, append(fresh, "DRILL_TABLES=users")...)
	if err == nil || !strings.Contains(out, "FAILED: the newest users.updatedAt is 120 h older than the dump (at most 48 h)") {
		t.Errorf("a stale dump passed the drill: %v\n%s", err, out)
	}
	if out, err := e.run("restore-drill.sh", stale, true, "FRESH_MAX_HOURS=0", "DRILL_TABLES=users"); err != nil {
		t.Errorf("with the freshness check off, the stale dump restores: %v\n%s", err, out)
	}

	// The drill fails loudly when a key table is empty.
	out, err = e.run("restore-drill.sh", drill, true, "DRILL_TABLES=users enrollments")
	if err == nil || !strings.Contains(out, "FAILED: table enrollments is empty") {
		t.Errorf("an empty key table passed the drill: %v\n%s", err, out)
	}

	// A truncated dump fails the drill's restore.
	data, _ := os.ReadFile(filepath.Join(drill, "latest.dump"))
	os.WriteFile(filepath.Join(drill, "latest.dump"), data[:len(data)/2], 0o644)
	out, err = e.run("restore-drill.sh", drill, true, "DRILL_TABLES=users")
	if err == nil || !strings.Contains(out, "FAILED: pg_restore") {
		t.Errorf("a truncated dump restored: %v\n%s", err, out)
	}

	// A corrupted object in S3 fails the drill's checksum.
	bad := workDir(t)
	os.WriteFile(filepath.Join(bad, dump), append(data[:len(data)-10], []byte("corrupted!")...), 0o644)
	cp := exec.Command("aws", "--endpoint-url", e.s3, "s3", "cp", "--only-show-errors", filepath.Join(bad, dump), "s3://backups/database/test/"+dump)
	cp.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_DEFAULT_REGION=us-east-1")
	if out, err := cp.CombinedOutput(); err != nil {
		t.Fatalf("uploading a corrupted dump: %v\n%s", err, out)
	}
	out, err = e.run("fetch-latest.sh", workDir(t), false)
	if err == nil || !strings.Contains(out, "its checksum file says") {
		t.Errorf("a corrupted dump passed the checksum: %v\n%s", err, out)
	}
}

// A wrong password fails pg_dump, the job, with a message naming what
// failed, and leaves nothing to upload.
func TestDatabaseBackupFailsOnAWrongPassword(t *testing.T) {
	e := setup(t)
	work := workDir(t)
	out, err := e.run("dump.sh", work, false, e.dumpVars("wrong")...)
	if err == nil {
		t.Fatalf("dump.sh succeeded with a wrong password:\n%s", out)
	}
	if want := "pg_dump of database scrolluniversity on 127.0.0.1 as backup failed (twice)"; !strings.Contains(out, want) {
		t.Errorf("want %q in\n%s", want, out)
	}
	if entries, _ := os.ReadDir(work); len(entries) != 0 {
		t.Errorf("a failed dump left %d files: %v", len(entries), entries)
	}
	if _, err := e.run("upload.sh", work, false); err == nil {
		t.Error("upload.sh succeeded with nothing dumped")
	}
}

// A migration's lock at the start of a dump: pg_dump gives up after the
// lock timeout instead of waiting forever, and the one retry succeeds
// once the lock is gone.
func TestDatabaseBackupRetriesAfterALockTimeout(t *testing.T) {
	e := setup(t)
	locker := e.pg.Cmd("psql", "-h", "127.0.0.1", "-p", strconv.Itoa(e.pg.Port), "-U", "postgres", "-d", "scrolluniversity", "-X", "-q",
		"-c", "BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(4); COMMIT;")
	if err := locker.Start(); err != nil {
		t.Fatal(err)
	}
	defer locker.Wait()
	for i := 0; ; i++ { // until the lock is held
		out, _ := e.pg.Psql("postgres", "", "-d", "scrolluniversity", "-tAc", "SELECT count(*) FROM pg_locks WHERE mode = 'AccessExclusiveLock' AND relation = 'users'::regclass")
		if strings.TrimSpace(out) == "1" {
			break
		}
		if i > 50 {
			t.Fatal("the lock was never taken")
		}
		time.Sleep(50 * time.Millisecond)
	}
	work := workDir(t)
	out, err := e.run("dump.sh", work, false, append(e.dumpVars(e.password), "LOCK_WAIT_TIMEOUT=1s", "RETRY_PAUSE=5")...)
	if err != nil || !strings.Contains(out, "failed; one retry in 5 s") || !strings.Contains(out, "database-backup: ") {
		t.Fatalf("want one failed attempt on the lock and a successful retry: %v\n%s", err, out)
	}
	if !strings.Contains(out, "LOCK TABLE public.users") {
		t.Errorf("the first attempt did not fail on the lock:\n%s", out)
	}
}

// app-backup against a stand-in API server and gofakes3 with versioning:
// each day's manifest names the copies of that day, and after an upload is
// overwritten (ransomware, a bug) the earlier day's manifest still
// restores the good content.
func TestAppBackupKeepsUploadsRestorableByDate(t *testing.T) {
	e := setup(t)
	api := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer sa-token" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, `{"kind": "List", "items": []}`)
	}))
	defer api.Close()
	sa := t.TempDir()
	os.WriteFile(filepath.Join(sa, "token"), []byte("sa-token"), 0o644)
	os.WriteFile(filepath.Join(sa, "ca.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: api.Certificate().Raw}), 0o644)
	settings := filepath.Join(t.TempDir(), "settings.json")
	os.WriteFile(settings, []byte(`{"stack": "test"}`), 0o644)

	aws := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("aws", append([]string{"--endpoint-url", e.s3}, args...)...)
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_DEFAULT_REGION=us-east-1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	aws("s3", "mb", "s3://uploads")
	aws("s3api", "put-bucket-versioning", "--bucket", "backups", "--versioning-configuration", "Status=Enabled")
	put := func(key, body string) {
		f := filepath.Join(t.TempDir(), "body")
		os.WriteFile(f, []byte(body), 0o644)
		aws("s3", "cp", "--only-show-errors", f, "s3://uploads/"+key)
	}
	put("avatars/a.png", "good a")
	put("essays/b.pdf", "good b")
	backup := func(day string) {
		t.Helper()
		out, err := e.run("app-backup.sh", workDir(t), false, "UPLOADS_BUCKET=uploads", "SETTINGS="+settings, "KUBE_API="+api.URL, "SA_DIR="+sa, "DAY="+day)
		if err != nil || !strings.Contains(out, "and 2 uploads (manifest app/"+day+"/uploads-manifest.tsv)") {
			t.Fatalf("app-backup.sh for %s: %v\n%s", day, err, out)
		}
	}
	backup("2026-12-01")
	put("avatars/a.png", "encrypted by ransomware")
	backup("2026-12-02")

	manifest := func(day string) map[string]string {
		out := aws("s3", "cp", "s3://backups/app/"+day+"/uploads-manifest.tsv", "-")
		m := map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			f := strings.Fields(line)
			if len(f) != 2 {
				t.Fatalf("manifest line %q", line)
			}
			m[f[0]] = f[1]
		}
		return m
	}
	first, second := manifest("2026-12-01"), manifest("2026-12-02")
	if len(first) != 2 || first["app/uploads/avatars/a.png"] == second["app/uploads/avatars/a.png"] || first["app/uploads/essays/b.pdf"] != second["app/uploads/essays/b.pdf"] {
		t.Fatalf("manifests: %v then %v; want a.png's version changed, b.pdf's the same", first, second)
	}
	// Restoring 2026-12-01: the version its manifest names holds the good content.
	got := filepath.Join(t.TempDir(), "a.png")
	aws("s3api", "get-object", "--bucket", "backups", "--key", "app/uploads/avatars/a.png", "--version-id", first["app/uploads/avatars/a.png"], got)
	if b, _ := os.ReadFile(got); string(b) != "good a" {
		t.Errorf("the 2026-12-01 copy of a.png reads %q", b)
	}
}

// The backup at size (opt-in: BACKUP_AT_SIZE_GIB=1 go test -run AtSize
// ./components/backups/scripts/, a few minutes): a database larger than
// any fixed buffer, dumped, uploaded and verified, fetched and restored by
// the drill, with the scratch space and /tmp of the pod's own size. As
// root (CI, this machine) both are size-limited tmpfs mounts, so a script
// that needs more space than the pod has fails here as it would in the
// cluster; otherwise their peak use is measured and compared.
func TestBackupAtSize(t *testing.T) {
	gib, _ := strconv.Atoi(os.Getenv("BACKUP_AT_SIZE_GIB"))
	if gib <= 0 {
		t.Skip("opt-in: BACKUP_AT_SIZE_GIB=1 (docs/COMPONENTS.md, Backups: the figures)")
	}
	// The scratch volume the drill needs: the compressed dump and the
	// restored database (about 0.6 and 1.2 times the data).
	scratchGiB := 2*gib + 1
	e := setup(t)
	start := time.Now()
	rows := gib * 5_600_000
	if out, err := e.pg.Psql("postgres", "", "-d", "scrolluniversity", "-c", fmt.Sprintf(`
CREATE TABLE events (id bigserial PRIMARY KEY, "updatedAt" timestamp(3) NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'), payload text NOT NULL);
INSERT INTO events (payload) SELECT md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text) FROM generate_series(1, %d);
UPDATE users SET "updatedAt" = now() AT TIME ZONE 'UTC';`, rows)); err != nil {
		t.Fatalf("filling the database: %v\n%s", err, out)
	}
	size, _ := e.pg.Psql("postgres", "", "-d", "scrolluniversity", "-tAc", "SELECT pg_database_size('scrolluniversity')")
	dbBytes, _ := strconv.ParseInt(strings.TrimSpace(size), 10, 64)
	if dbBytes < int64(gib)<<30 {
		t.Fatalf("the database is %d bytes, want at least %d GiB", dbBytes, gib)
	}
	t.Logf("database: %.2f GiB, %d rows of events, filled in %s", float64(dbBytes)/(1<<30), rows, time.Since(start).Round(time.Second))

	limited := func(name string, bytes int64) string {
		dir := filepath.Join(t.TempDir(), name)
		os.MkdirAll(dir, 0o755)
		if os.Geteuid() == 0 {
			if out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d,mode=0777", bytes), "tmpfs", dir).CombinedOutput(); err == nil {
				t.Cleanup(func() { exec.Command("umount", dir).Run() })
				t.Logf("%s: a tmpfs of %d MiB", name, bytes>>20)
			} else {
				t.Logf("%s: no tmpfs (%s); its use is measured instead", name, strings.TrimSpace(string(out)))
			}
		}
		pgtest.Chown(dir)
		return dir
	}
	const tmpLimit = 256 << 20 // the pod's /tmp emptyDir and its containers' ephemeral-storage limit
	work := limited("work", int64(scratchGiB)<<30)
	tmp := limited("tmp", tmpLimit)
	vars := []string{"HOME=" + tmp, "TMPDIR=" + tmp}
	used := func(dir string) int64 {
		var n int64
		filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
			if err == nil && !info.IsDir() {
				n += info.Size()
			}
			return nil
		})
		return n
	}
	step := func(script string, asServer bool, extra ...string) string {
		t.Helper()
		began := time.Now()
		out, err := e.run(script, work, asServer, append(append(vars, e.dumpVars(e.password)...), extra...)...)
		if err != nil {
			t.Fatalf("%s: %v\n%s", script, err, out)
		}
		if u := used(tmp); u > tmpLimit {
			t.Errorf("%s left %d bytes in /tmp, over the pod's %d", script, u, tmpLimit)
		}
		t.Logf("%-16s %6s  scratch %5.2f GiB  %s", script, time.Since(began).Round(time.Second), float64(used(work))/(1<<30), lastLine(out))
		return out
	}
	step("dump.sh", false)
	step("upload.sh", false)
	entries, _ := os.ReadDir(work) // a new pod: a new scratch volume
	for _, en := range entries {
		os.RemoveAll(filepath.Join(work, en.Name()))
	}
	step("fetch-latest.sh", false)
	pgtest.Chown(filepath.Join(work, "latest.dump"))
	pgtest.Chown(filepath.Join(work, "LATEST"))
	out := step("restore-drill.sh", true, "DRILL_TABLES=users courses events", "FRESH_TABLE=users", "FRESH_COLUMN=updatedAt", "FRESH_MAX_HOURS=48")
	if !strings.Contains(out, fmt.Sprintf("events has %d rows", rows)) {
		t.Errorf("the drill did not restore every event:\n%s", out)
	}
	t.Logf("total %s", time.Since(start).Round(time.Second))
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
