// Command etcd is etcd 3.6's server, built from the module proxy: the
// upstream binary is a thin main over etcdmain.Main, exactly as here.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
