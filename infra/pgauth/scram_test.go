package pgauth

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/scrolluniversity/platform/internal/pgtest"
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

// TestMonitoringRoleOnRealPostgres runs the Observability component's SQL
// twice (it must be idempotent) against a throwaway PostgreSQL 15, with a
// verifier from ScramVerifier, then logs in as the role with the password
// over SCRAM and checks it may read statistics and nothing more. Skipped
// without PostgreSQL 15 unless POSTGRES_REQUIRED=1 (CI installs it).
func TestMonitoringRoleOnRealPostgres(t *testing.T) {
	pgtest.Available(t)
	sql, err := filepath.Abs("../../components/observability/sql/monitoring-user.sql")
	if err != nil {
		t.Fatal(err)
	}
	pg := pgtest.Start(t)

	salt := []byte("0123456789abcdef")
	verifier, err := ScramVerifier("s3cret-Monitoring", salt)
	if err != nil {
		t.Fatal(err)
	}
	for run := 1; run <= 2; run++ {
		if out, err := pg.Psql("postgres", "", "-v", "verifier="+verifier, "-f", sql); err != nil {
			t.Fatalf("run %d of monitoring-user.sql: %v\n%s", run, err, out)
		}
	}
	out, err := pg.Psql("monitoring", "s3cret-Monitoring", "-tAc",
		"SELECT pg_has_role('monitoring', 'pg_monitor', 'member'), rolsuper, rolcreaterole, rolcreatedb, rolconnlimit FROM pg_roles WHERE rolname = 'monitoring'")
	if err != nil {
		t.Fatalf("logging in as monitoring with the password: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(out); got != "t|f|f|f|5" {
		t.Errorf("monitoring role = %q, want member of pg_monitor, no superuser, createrole or createdb, 5 connections", got)
	}
	if out, err := pg.Psql("monitoring", "s3cret-Monitoring", "-tAc", "SELECT count(*) >= 0 FROM pg_stat_activity"); err != nil || strings.TrimSpace(out) != "t" {
		t.Errorf("monitoring cannot read pg_stat_activity: %v %s", err, out)
	}
	if out, err := pg.Psql("monitoring", "s3cret-Monitoring", "-c", "CREATE TABLE owned (x int)"); err == nil {
		t.Errorf("monitoring may create tables in public:\n%s", out)
	}
	if out, err := pg.Psql("monitoring", "wrong", "-c", "SELECT 1"); err == nil {
		t.Errorf("a wrong password was accepted:\n%s", out)
	}
	if out, err := pg.Psql("postgres", "", "-tAc", "SELECT rolpassword LIKE 'SCRAM-SHA-256$4096:%' FROM pg_authid WHERE rolname = 'monitoring'"); err != nil || strings.TrimSpace(out) != "t" {
		t.Errorf("the stored password is not the SCRAM verifier: %v %s", err, out)
	}
}

const knownVerifier = "SCRAM-SHA-256$4096:AAECAwQFBgcICQoLDA0ODw==$zHCdol2044/ZyWzPLi7oxApCkamKw9Z+E4U/QApd/5Y=:dd5peBOitVnLNFu7VmwP+HiDaaw4OUCv396eVCWhYiE="
