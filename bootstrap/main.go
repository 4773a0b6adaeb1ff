// The bootstrap program: run once per AWS account, with administrator
// credentials, before the platform's first `pulumi up` (docs/DEPLOYMENT.md).
package main

import (
	"fmt"
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scrolluniversity/platform/infra/bootstrap"
	"github.com/scrolluniversity/platform/internal/stackfiles"
)

func main() {
	// The platform's stack files, beside this program's folder: the
	// environments it makes roles for, and the role names they expect.
	stacks, err := stackfiles.Read("..")
	if err != nil {
		fmt.Fprintln(os.Stderr, "bootstrap: reading the platform's stack files:", err)
		os.Exit(1)
	}
	pulumi.Run(func(ctx *pulumi.Context) error {
		outputs, err := bootstrap.Program(stacks)(ctx)
		if err != nil {
			return err
		}
		for k, v := range outputs {
			ctx.Export(k, v)
		}
		return nil
	})
}
