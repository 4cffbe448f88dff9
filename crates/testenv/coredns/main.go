// coredns is CoreDNS with only the plugins the local cluster's DNS uses: the
// cluster zone from the kubernetes plugin, every other name answered locally
// (template), and no forwarder, so no query ever leaves the machine.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"
	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/hosts"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/template"
)

func main() {
	// A query walks the plugins in this order, whatever the Corefile's order; it
	// is CoreDNS's own order (plugin.cfg) restricted to the plugins linked in.
	dnsserver.Directives = []string{
		"bind",
		"ready",
		"health",
		"errors",
		"log",
		"cache",
		"template",
		"hosts",
		"kubernetes",
	}
	coremain.Run()
}
