// Command kwokstages prints KWOK's own stages, as its release embeds them
// (kustomize/stage at v0.8.0), for `kwok --config`: nodes become Ready
// and keep their heartbeat, pods bound to a node become Running and Ready,
// complete when their containers would, and go when deleted. The kwok
// binary itself starts with no stage unless given them.
package main

import (
	"fmt"
	"strings"

	nodefast "sigs.k8s.io/kwok/kustomize/stage/node/fast"
	nodeheartbeat "sigs.k8s.io/kwok/kustomize/stage/node/heartbeat"
	podfast "sigs.k8s.io/kwok/kustomize/stage/pod/fast"
)

func main() {
	stages := []string{nodefast.DefaultNodeInit, nodeheartbeat.DefaultNodeHeartbeat, podfast.DefaultPodReady, podfast.DefaultPodComplete, podfast.DefaultPodDelete}
	for i, s := range stages {
		if i > 0 {
			fmt.Println("---")
		}
		fmt.Println(strings.TrimSpace(s))
	}
}
