package datatier

import (
	"fmt"
	"net"
	"net/url"

	"github.com/scrolluniversity/platform/infra/config"
)

// poolTimeoutSeconds is how long a request waits for a pooled connection
// before Prisma gives up: long enough to ride out a burst, short enough to
// fail a request rather than hang it.
const poolTimeoutSeconds = 10

// DatabaseURL is the connection string the backend (Prisma) reads from
// DATABASE_URL: TLS required, the pool's size and wait. net/url escapes the
// credentials, whatever they contain.
func DatabaseURL(user, password, host string, port int, database string, pool config.PoolConfig) string {
	q := url.Values{}
	q.Set("sslmode", "require")
	q.Set("connection_limit", fmt.Sprint(pool.Max))
	q.Set("pool_timeout", fmt.Sprint(poolTimeoutSeconds))
	u := url.URL{
		Scheme:   "postgresql",
		User:     url.UserPassword(user, password),
		Host:     net.JoinHostPort(host, fmt.Sprint(port)),
		Path:     "/" + database,
		RawQuery: q.Encode(),
	}
	return u.String()
}

// RedisURL is the rediss:// (TLS) URL with the AUTH token as password.
func RedisURL(token, host string, port int) string {
	u := url.URL{
		Scheme: "rediss",
		User:   url.UserPassword("", token),
		Host:   net.JoinHostPort(host, fmt.Sprint(port)),
	}
	return u.String()
}
