package hudi

import (
	"context"
	"regexp"
	"sort"
	"strings"
)

// baseFile is one version of a file group.
type baseFile struct {
	name    string
	instant string
	size    int64
}

// fileGroup is the committed versions of one file id in one partition,
// oldest first.
type fileGroup struct {
	partition string
	fileID    string
	files     []baseFile
	records   int64 // rows in the latest version
}

func (g *fileGroup) latest() baseFile { return g.files[len(g.files)-1] }

func (g *fileGroup) path(f baseFile) string { return joinKey(g.partition, f.name) }

func groupKey(partition, fileID string) string { return partition + "\x00" + fileID }

// tableListing is what a recursive listing of the table found outside
// .hoodie.
type tableListing struct {
	baseFiles  map[string][]object // instant -> base files written by it
	partitions map[string]bool     // partitions with a .hoodie_partition_metadata
	tempFiles  []string            // leftovers of interrupted atomic writes
}

var tempFile = regexp.MustCompile(`\.[0-9a-f]+\.tmp$`)

func listTable(ctx context.Context, st *storage) (*tableListing, error) {
	objs, err := st.list(ctx, "", true)
	if err != nil {
		return nil, err
	}
	l := &tableListing{baseFiles: map[string][]object{}, partitions: map[string]bool{}}
	for _, o := range objs {
		if tempFile.MatchString(o.Key) {
			l.tempFiles = append(l.tempFiles, o.Key)
			continue
		}
		if strings.HasPrefix(o.Key, metaFolder+"/") {
			continue
		}
		dir, name := "", o.Key
		if i := strings.LastIndexByte(o.Key, '/'); i >= 0 {
			dir, name = o.Key[:i], o.Key[i+1:]
		}
		if name == partitionMetaFile {
			l.partitions[dir] = true
			continue
		}
		if _, _, instant, ok := parseBaseFileName(name); ok {
			l.baseFiles[instant] = append(l.baseFiles[instant], o)
		}
	}
	return l, nil
}

// buildFileGroups groups the committed base files: those of completed
// instants and those older than the active timeline (their instants were
// archived; Hudi's readers treat them as committed the same way).
func buildFileGroups(l *tableListing, tl timeline) map[string]*fileGroup {
	completed := map[string]bool{}
	commits := tl.completedCommits()
	for _, in := range commits {
		completed[in.Time] = true
	}
	start := ""
	if len(tl) > 0 {
		start = tl[0].Time
	}
	committed := func(instant string) bool { return completed[instant] || instant < start }
	groups := map[string]*fileGroup{}
	for instant, objs := range l.baseFiles {
		if !committed(instant) {
			continue
		}
		for _, o := range objs {
			dir, name := "", o.Key
			if i := strings.LastIndexByte(o.Key, '/'); i >= 0 {
				dir, name = o.Key[:i], o.Key[i+1:]
			}
			fileID, _, _, _ := parseBaseFileName(name)
			k := groupKey(dir, fileID)
			g := groups[k]
			if g == nil {
				g = &fileGroup{partition: dir, fileID: fileID}
				groups[k] = g
			}
			g.files = append(g.files, baseFile{name: name, instant: instant, size: o.Size})
		}
	}
	for _, g := range groups {
		sort.Slice(g.files, func(a, b int) bool { return g.files[a].instant < g.files[b].instant })
	}
	return groups
}
