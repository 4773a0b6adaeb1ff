package tests

import (
	"net/url"
	"testing"

	"github.com/scrolluniversity/platform/components/datatier"
	"github.com/scrolluniversity/platform/infra/config"
)

func TestMaxConnections(t *testing.T) {
	cases := []struct{ replicas, pool, headroom, want int }{
		{20, 50, 50, 1050},
		{4, 50, 50, 250},
		{1, 10, 0, 10},
	}
	for _, tc := range cases {
		if got := datatier.MaxConnections(tc.replicas, tc.pool, tc.headroom); got != tc.want {
			t.Errorf("datatier.MaxConnections(%d, %d, %d): want %d, got %d", tc.replicas, tc.pool, tc.headroom, tc.want, got)
		}
	}
}

func TestPostgresParametersForceTLSAndSizeConnections(t *testing.T) {
	db := config.Defaults("p", "s").Database
	got := map[string]datatier.Parameter{}
	for _, p := range datatier.PostgresParameters(db, 20) {
		got[p.Name] = p
	}
	want := map[string]datatier.Parameter{
		"rds.force_ssl":            {Name: "rds.force_ssl", Value: "1", ApplyMethod: "immediate"},
		"ssl_min_protocol_version": {Name: "ssl_min_protocol_version", Value: "TLSv1.2", ApplyMethod: "immediate"},
		"max_connections":          {Name: "max_connections", Value: "1050", ApplyMethod: "pending-reboot"},
		"shared_preload_libraries": {Name: "shared_preload_libraries", Value: "pg_stat_statements", ApplyMethod: "pending-reboot"},
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s: want %+v, got %+v", name, w, got[name])
		}
	}
}

func TestDatabaseURL(t *testing.T) {
	cases := []struct {
		name, user, password, host string
		want                       string
	}{
		{"plain", "scrolladmin", "abc123", "db.example.com", "postgresql://scrolladmin:abc123@db.example.com:5432/app?connection_limit=50&pool_timeout=10&sslmode=require"},
		// Credentials are escaped, whatever a password rotation brings.
		{"escaped", "u", "p@ss/w:rd", "db.example.com", "postgresql://u:p%40ss%2Fw%3Ard@db.example.com:5432/app?connection_limit=50&pool_timeout=10&sslmode=require"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := datatier.DatabaseURL(tc.user, tc.password, tc.host, 5432, "app", config.PoolConfig{Min: 10, Max: 50})
			if got != tc.want {
				t.Errorf("want %s\ngot  %s", tc.want, got)
			}
			u, err := url.Parse(got)
			if err != nil {
				t.Fatal(err)
			}
			if pw, _ := u.User.Password(); pw != tc.password {
				t.Errorf("password round-trip: want %q, got %q", tc.password, pw)
			}
		})
	}
}

func TestRedisURL(t *testing.T) {
	got := datatier.RedisURL("tok/en", "master.x.cache.amazonaws.com", 6379)
	if want := "rediss://:tok%2Fen@master.x.cache.amazonaws.com:6379"; got != want {
		t.Errorf("want %s, got %s", want, got)
	}
}

func TestRedisFamily(t *testing.T) {
	for v, want := range map[string]string{"7.1": "redis7", "7.0": "redis7", "6.2": "redis6"} {
		if got := datatier.RedisFamily(v); got != want {
			t.Errorf("datatier.RedisFamily(%s): want %s, got %s", v, want, got)
		}
	}
}
