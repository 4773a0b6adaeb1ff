// Command drift is the nightly drift workflow's decisions (internal/drift):
//
//	drift deployed --environment staging   # the commit staging last deployed ("" if none)
//	drift busy --workflow deploy.yml       # "true" while a deploy runs or waits
//	drift classify preview.json EXIT       # clean, drift or failed, and a Markdown report
//
// deployed and busy read GITHUB_API_URL, GITHUB_REPOSITORY and GH_TOKEN,
// as a workflow step has them. classify writes the verdict on its first
// line and exits 0 whatever it is.
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"

	"github.com/scrolluniversity/platform/internal/drift"
)

func main() {
	if len(os.Args) < 2 {
		fail(2, "usage: drift deployed|busy|classify ...")
	}
	gh := drift.GitHub{API: os.Getenv("GITHUB_API_URL"), Repository: os.Getenv("GITHUB_REPOSITORY"), Token: os.Getenv("GH_TOKEN")}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	switch os.Args[1] {
	case "deployed":
		env := fs.String("environment", "", "the GitHub environment (the stack)")
		fs.Parse(os.Args[2:])
		sha, err := gh.LastDeployed(*env)
		if err != nil {
			fail(1, err.Error())
		}
		fmt.Println(sha)
	case "busy":
		wf := fs.String("workflow", "deploy.yml", "the deploy workflow's file name")
		fs.Parse(os.Args[2:])
		busy, err := gh.DeployBusy(*wf)
		if err != nil {
			fail(1, err.Error())
		}
		fmt.Println(busy)
	case "classify":
		fs.Parse(os.Args[2:])
		if fs.NArg() != 2 {
			fail(2, "usage: drift classify PREVIEW.json EXIT_CODE")
		}
		out, _ := os.ReadFile(fs.Arg(0))
		code, err := strconv.Atoi(fs.Arg(1))
		if err != nil {
			fail(2, "exit code "+fs.Arg(1)+": "+err.Error())
		}
		r := drift.Classify(out, code)
		fmt.Println(r.Verdict)
		for _, l := range append(r.Changes, r.Errors...) {
			fmt.Println("- `" + l + "`")
		}
	default:
		fail(2, "unknown command "+os.Args[1])
	}
}

func fail(code int, msg string) {
	fmt.Fprintln(os.Stderr, "drift:", msg)
	os.Exit(code)
}
