package avro

import (
	"errors"
	"fmt"
	"strings"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/converter"
	"github.com/binlake/binlake/schema/registry"
)

// ConfigBasicAuthUserInfo is the registry's basic credentials as
// "user:password" (Confluent's key name).
const ConfigBasicAuthUserInfo = "basic.auth.user.info"

// FromConfig builds a converter from the connector config keys under
// "value.converter." with that prefix removed: schema.registry.url (empty:
// defaultRegistry, typically a client of the worker's embedded registry),
// basic.auth.user.info, schema.name.prefix, subject.name.strategy and
// schema.evolution.policy. It does no I/O.
func FromConfig(cfg connect.Config, defaultRegistry Registry) (*Converter, error) {
	reg := defaultRegistry
	if url := strings.TrimSpace(cfg[ConfigRegistryURL]); url != "" {
		var opts []registry.ClientOption
		if ui := cfg[ConfigBasicAuthUserInfo]; ui != "" {
			user, pass, ok := strings.Cut(ui, ":")
			if !ok {
				return nil, fmt.Errorf("%s must be user:password", ConfigBasicAuthUserInfo)
			}
			opts = append(opts, registry.WithBasicAuth(user, pass))
		}
		c, err := registry.NewClient(url, opts...)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ConfigRegistryURL, err)
		}
		reg = c
	}
	if reg == nil {
		return nil, errors.New(ConfigRegistryURL + " is empty and no embedded registry is available")
	}
	policy, err := ParsePolicy(cfg[ConfigEvolutionPolicy])
	if err != nil {
		return nil, err
	}
	subjects, err := ParseSubjectStrategy(cfg[ConfigSubjectStrategy])
	if err != nil {
		return nil, err
	}
	return New(reg, Options{NamePrefix: cfg[ConfigNamePrefix], Subjects: subjects, Policy: policy})
}

// Factory returns a converter factory for the worker (one converter, with
// its caches, per connector).
func Factory(defaultRegistry Registry) func(cfg connect.Config) (converter.Converter, error) {
	return func(cfg connect.Config) (converter.Converter, error) {
		c, err := FromConfig(cfg, defaultRegistry)
		if err != nil {
			return nil, err
		}
		return c, nil
	}
}

// SchemaID returns the schema id in the header of a body this converter
// encoded (the worker's SchemaIDer hook for the binlake.schema.id property).
func (c *Converter) SchemaID(body []byte) (int32, bool) {
	id, err := SchemaIDOf(body)
	if err != nil {
		return 0, false
	}
	return int32(id), true
}
