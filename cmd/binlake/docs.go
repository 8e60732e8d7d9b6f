package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/binlake/binlake/connect/plugin"
	"github.com/binlake/binlake/connect/spec"
	"github.com/binlake/binlake/connect/transform"
)

// writeConfigDocs renders docs/config.md from every registered plugin and
// every transform type.
func writeConfigDocs(w io.Writer) error {
	if err := plugin.WriteMarkdown(w, plugin.All()); err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("\n## Transforms\n\n")
	b.WriteString("Set `transforms` to a list of aliases and configure each under `transforms.<alias>.`, starting with its\n")
	b.WriteString("`type`. Transforms run in order between a source task and the converter.\n")
	for _, t := range transform.Types() {
		fmt.Fprintf(&b, "\n### `%s`\n\n", t.Name)
		if t.Doc != "" {
			b.WriteString(strings.Join(strings.Fields(t.Doc), " ") + "\n\n")
		}
		if t.Spec == nil || len(t.Spec.Keys) == 0 {
			b.WriteString("No keys besides `type`.\n")
			continue
		}
		keys := make([]spec.Key, len(t.Spec.Keys))
		for i, k := range t.Spec.Keys {
			k.Name = "transforms.<alias>." + k.Name
			keys[i] = k
		}
		if err := plugin.WriteKeysMarkdown(&b, keys); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, strings.TrimRight(b.String(), "\n")+"\n")
	return err
}
