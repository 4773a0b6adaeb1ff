// The bootstrap program: run once per AWS account, with administrator
// credentials, before the platform's first `pulumi up` (docs/DEPLOYMENT.md).
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scrolluniversity/platform/infra/bootstrap"
)

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		outputs, err := bootstrap.Program(ctx)
		if err != nil {
			return err
		}
		for k, v := range outputs {
			ctx.Export(k, v)
		}
		return nil
	})
}
