// Command kube-dryrun-apiserver runs the upstream apiextensions-apiserver on its
// own, with no kube-apiserver in front of it, so that the tests can have custom
// resources judged by the code a real cluster runs: the CRD's structural
// schema, its x-kubernetes-validations (CEL) rules, defaulting, pruning,
// strict field validation, server-side apply and dry-run.
//
// Built by scripts/install-kube-dryrun from Debian's Go sources of
// golang-k8s-apiextensions-apiserver-dev (GOPATH mode). What differs from
// the upstream command (k8s.io/apiextensions-apiserver/pkg/cmd/server):
//
//   - no authentication and no authorization: it listens on loopback for one
//     test session, and every request is let through;
//   - no core API: nothing to read Services or Namespaces from, so no admission
//     plugins and no conversion webhooks (a CRD with one is refused at request
//     time, with the reason);
//   - discovery (/apis) served by this server itself: in a cluster the
//     aggregator in kube-apiserver serves it, and kubectl needs it;
//   - /openapi/v2 served beside /openapi/v3, for kubectl versions that read it.
package main

import (
	"fmt"
	"net"
	"net/url"
	"os"

	"github.com/spf13/cobra"
	noopoteltrace "go.opentelemetry.io/otel/trace/noop"

	"k8s.io/apiextensions-apiserver/pkg/apiserver"
	"k8s.io/apiextensions-apiserver/pkg/cmd/server/options"
	generatedopenapi "k8s.io/apiextensions-apiserver/pkg/generated/openapi"
	openapinamer "k8s.io/apiserver/pkg/endpoints/openapi"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/apiserver/pkg/util/openapi"
	"k8s.io/apiserver/pkg/util/webhook"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/component-base/cli"
	netutils "k8s.io/utils/net"
)

// noCoreAPI answers the webhook service lookups that need a core API.
type noCoreAPI struct{}

func (noCoreAPI) ResolveEndpoint(namespace, name string, port int32) (*url.URL, error) {
	return nil, fmt.Errorf("service %s/%s:%d: this standalone server has no core API, so no conversion webhooks", namespace, name, port)
}

// standalone turns off what needs a kube-apiserver next to this one.
func standalone(o *options.CustomResourceDefinitionsServerOptions) {
	r := o.RecommendedOptions
	r.Authentication = nil
	r.Authorization = nil
	r.CoreAPI = nil
	r.Admission = nil
	r.Features.EnablePriorityAndFairness = false
}

func config(o *options.CustomResourceDefinitionsServerOptions) (*apiserver.Config, error) {
	r := o.RecommendedOptions
	loopback := []net.IP{netutils.ParseIPSloppy("127.0.0.1")}
	if err := r.SecureServing.MaybeDefaultWithSelfSignedCerts("localhost", nil, loopback); err != nil {
		return nil, fmt.Errorf("self-signed serving certificate: %w", err)
	}
	generic := genericapiserver.NewRecommendedConfig(apiserver.Codecs)
	if err := o.ServerRunOptions.ApplyTo(&generic.Config); err != nil {
		return nil, err
	}
	if err := r.ApplyTo(generic); err != nil {
		return nil, err
	}
	if err := o.APIEnablement.ApplyTo(&generic.Config, apiserver.DefaultAPIResourceConfigSource(), apiserver.Scheme); err != nil {
		return nil, err
	}
	definitions := openapi.GetOpenAPIDefinitionsWithoutDisabledFeatures(generatedopenapi.GetOpenAPIDefinitions)
	namer := openapinamer.NewDefinitionNamer(apiserver.Scheme, scheme.Scheme)
	generic.OpenAPIConfig = genericapiserver.DefaultOpenAPIConfig(definitions, namer)
	generic.OpenAPIV3Config = genericapiserver.DefaultOpenAPIV3Config(definitions, namer)
	return &apiserver.Config{
		GenericConfig: generic,
		ExtraConfig: apiserver.ExtraConfig{
			CRDRESTOptionsGetter: options.NewCRDRESTOptionsGetter(*r.Etcd, generic.ResourceTransformers, generic.StorageObjectCountTracker),
			ServiceResolver:      noCoreAPI{},
			AuthResolverWrapper:  webhook.NewDefaultAuthenticationInfoResolverWrapper(nil, nil, generic.LoopbackClientConfig, noopoteltrace.NewTracerProvider()),
		},
	}, nil
}

func run(c *cobra.Command, o *options.CustomResourceDefinitionsServerOptions) error {
	standalone(o)
	if err := o.Complete(); err != nil {
		return err
	}
	if err := o.Validate(); err != nil {
		return err
	}
	cfg, err := config(o)
	if err != nil {
		return err
	}
	completed := cfg.Complete()
	// Complete() turns discovery off (kube-apiserver's aggregator serves it in
	// a cluster); alone, this server is the one kubectl asks.
	completed.GenericConfig.EnableDiscovery = true
	server, err := completed.New(genericapiserver.NewEmptyDelegate())
	if err != nil {
		return err
	}
	return server.GenericAPIServer.PrepareRun().RunWithContext(c.Context())
}

func main() {
	o := options.NewCustomResourceDefinitionsServerOptions(os.Stdout, os.Stderr)
	cmd := &cobra.Command{
		Use:   "kube-dryrun-apiserver",
		Short: "The upstream apiextensions-apiserver alone on loopback, for server-side dry-runs of custom resources in tests",
		PersistentPreRunE: func(*cobra.Command, []string) error {
			return o.ServerRunOptions.ComponentGlobalsRegistry.Set()
		},
		RunE: func(c *cobra.Command, _ []string) error { return run(c, o) },
	}
	cmd.SetContext(genericapiserver.SetupSignalContext())
	o.AddFlags(cmd.Flags())
	os.Exit(cli.Run(cmd))
}
