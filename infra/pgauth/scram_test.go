package pgauth

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A vector computed independently (RFC 5802's steps in Python's hashlib):
// password "pencil", salt 16 bytes 0x00..0x0f, 4096 iterations.
func TestScramVerifierKnownVector(t *testing.T) {
	salt := make([]byte, 16)
	for i := range salt {
		salt[i] = byte(i)
	}
	got, err := ScramVerifier("pencil", salt)
	if err != nil {
		t.Fatal(err)
	}
	want := knownVerifier
	if got != want {
		t.Errorf("ScramVerifier = %s\nwant           %s", got, want)
	}
	other, _ := ScramVerifier("pencil2", salt)
	if other == got {
		t.Error("two passwords gave one verifier")
	}
}

// pgBin is where Debian's postgresql-15 puts the server's programs.
const pgBin = "/usr/lib/postgresql/15/bin"

// TestMonitoringRoleOnRealPostgres runs the Observability component's SQL
// twice (it must be idempotent) against a throwaway PostgreSQL 15, with a
// verifier from ScramVerifier, then logs in as the role with the password
// over SCRAM and checks it may read statistics and nothing more. Skipped
// without PostgreSQL 15 unless POSTGRES_REQUIRED=1 (CI installs it).
func TestMonitoringRoleOnRealPostgres(t *testing.T) {
	if _, err := os.Stat(filepath.Join(pgBin, "postgres")); err != nil {
		if os.Getenv("POSTGRES_REQUIRED") == "1" {
			t.Fatal("PostgreSQL 15 is not installed (apt-get install postgresql-15)")
		}
		t.Skip("PostgreSQL 15 is not installed")
	}
	sql, err := filepath.Abs("../../components/observability/sql/monitoring-user.sql")
	if err != nil {
		t.Fatal(err)
	}
	pg := startPostgres(t)

	salt := []byte("0123456789abcdef")
	verifier, err := ScramVerifier("s3cret-Monitoring", salt)
	if err != nil {
		t.Fatal(err)
	}
	for run := 1; run <= 2; run++ {
		if out, err := pg.psql("postgres", "", "-v", "verifier="+verifier, "-f", sql); err != nil {
			t.Fatalf("run %d of monitoring-user.sql: %v\n%s", run, err, out)
		}
	}
	out, err := pg.psql("monitoring", "s3cret-Monitoring", "-tAc",
		"SELECT pg_has_role('monitoring', 'pg_monitor', 'member'), rolsuper, rolcreaterole, rolcreatedb, rolconnlimit FROM pg_roles WHERE rolname = 'monitoring'")
	if err != nil {
		t.Fatalf("logging in as monitoring with the password: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(out); got != "t|f|f|f|5" {
		t.Errorf("monitoring role = %q, want member of pg_monitor, no superuser, createrole or createdb, 5 connections", got)
	}
	if out, err := pg.psql("monitoring", "s3cret-Monitoring", "-tAc", "SELECT count(*) >= 0 FROM pg_stat_activity"); err != nil || strings.TrimSpace(out) != "t" {
		t.Errorf("monitoring cannot read pg_stat_activity: %v %s", err, out)
	}
	if out, err := pg.psql("monitoring", "s3cret-Monitoring", "-c", "CREATE TABLE owned (x int)"); err == nil {
		t.Errorf("monitoring may create tables in public:\n%s", out)
	}
	if out, err := pg.psql("monitoring", "wrong", "-c", "SELECT 1"); err == nil {
		t.Errorf("a wrong password was accepted:\n%s", out)
	}
	if out, err := pg.psql("postgres", "", "-tAc", "SELECT rolpassword LIKE 'SCRAM-SHA-256$4096:%' FROM pg_authid WHERE rolname = 'monitoring'"); err != nil || strings.TrimSpace(out) != "t" {
		t.Errorf("the stored password is not the SCRAM verifier: %v %s", err, out)
	}
}

type postgres struct {
	t    *testing.T
	dir  string
	port int
	as   []string // runuser prefix when the test runs as root
}

func (p *postgres) cmd(name string, args ...string) *exec.Cmd {
	full := append(append([]string{}, p.as...), append([]string{filepath.Join(pgBin, name)}, args...)...)
	return exec.Command(full[0], full[1:]...)
}

func (p *postgres) psql(user, password string, args ...string) (string, error) {
	cmd := p.cmd("psql", append([]string{"-X", "-h", "127.0.0.1", "-p", strconv.Itoa(p.port), "-U", user, "-d", "postgres", "-v", "ON_ERROR_STOP=1"}, args...)...)
	cmd.Env = append(os.Environ(), "PGPASSWORD="+password, "PGCONNECT_TIMEOUT=5")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// startPostgres initialises a cluster that trusts the superuser on
// loopback and demands SCRAM from everyone else, and stops it at the end.
func startPostgres(t *testing.T) *postgres {
	t.Helper()
	p := &postgres{t: t, dir: t.TempDir()}
	if os.Geteuid() == 0 {
		// PostgreSQL refuses to run as root: run it as Debian's postgres user.
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root needs the postgres user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(p.dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Dir(p.dir), 0o755); err != nil {
			t.Fatal(err)
		}
		p.as = []string{"runuser", "-u", "postgres", "--"}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	data := filepath.Join(p.dir, "data")
	if out, err := p.cmd("initdb", "-D", data, "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	hba := "host all postgres 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 scram-sha-256\n"
	if err := writeAs(p, filepath.Join(data, "pg_hba.conf"), hba); err != nil {
		t.Fatal(err)
	}
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1", p.port, p.dir)
	if out, err := p.cmd("pg_ctl", "-D", data, "-o", opts, "-l", filepath.Join(p.dir, "log"), "-w", "-t", "60", "start").CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(p.dir, "log"))
		t.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
	t.Cleanup(func() {
		if out, err := p.cmd("pg_ctl", "-D", data, "-m", "immediate", "-w", "-t", "30", "stop").CombinedOutput(); err != nil {
			t.Logf("pg_ctl stop: %v\n%s", err, out)
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := p.psql("postgres", "", "-c", "SELECT 1"); err == nil {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatal("PostgreSQL did not accept connections")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// writeAs writes a file the server's user can read.
func writeAs(p *postgres, path, content string) error {
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		return err
	}
	if len(p.as) == 0 {
		return nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return os.Chown(path, uid, gid)
}

const knownVerifier = "SCRAM-SHA-256$4096:AAECAwQFBgcICQoLDA0ODw==$zHCdol2044/ZyWzPLi7oxApCkamKw9Z+E4U/QApd/5Y=:dd5peBOitVnLNFu7VmwP+HiDaaw4OUCv396eVCWhYiE="
