// Command scrolluniversity is the Pulumi program that stands up the
// ScrollUniversity platform; see README.md.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scrolluniversity/platform/infra"
)

func main() {
	pulumi.Run(infra.Program)
}
