// ocibuild turns staged directory trees into a reproducible OCI image: one layer per tree, with
// sorted entries, a fixed timestamp and normalized owners and modes, so the same trees give the
// same digest. go-containerregistry writes the image (config, manifest, OCI layout, docker tar).
//
//	ocibuild -spec spec.json
//
// spec.json: {"layers": [{"dir": "...", "uid": 0, "gid": 0}], "config": {OCI config fields},
// "layout": "out/oci", "tarball": "out/image.tar", "tag": "ghcr.io/x/y:1"}. Prints the digest.
package main

import (
	"archive/tar"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

type layerSpec struct {
	Dir string `json:"dir"`
	UID int    `json:"uid"`
	GID int    `json:"gid"`
}

type spec struct {
	Layers []layerSpec `json:"layers"`
	// Owners: uid, gid of some paths (relative to a layer's root), e.g. the image user's home.
	Owners  map[string][2]int `json:"owners"`
	Config  v1.Config         `json:"config"`
	Layout  string            `json:"layout"`
	Tarball string            `json:"tarball"`
	Tag     string            `json:"tag"`
}

// epoch is every entry's and the image's timestamp: the contents, not the build time, make the digest.
var epoch = time.Unix(0, 0).UTC()

func main() {
	specPath := flag.String("spec", "", "build spec (JSON)")
	flag.Parse()
	if err := run(*specPath); err != nil {
		fmt.Fprintln(os.Stderr, "ocibuild:", err)
		os.Exit(1)
	}
}

func run(specPath string) error {
	raw, err := os.ReadFile(specPath)
	if err != nil {
		return err
	}
	var s spec
	if err := json.Unmarshal(raw, &s); err != nil {
		return fmt.Errorf("%s: %w", specPath, err)
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	for i, l := range s.Layers {
		tarPath := filepath.Join(filepath.Dir(s.Layout), fmt.Sprintf("layer-%d.tar", i))
		if err := writeLayerTar(l, s.Owners, tarPath); err != nil {
			return fmt.Errorf("layers[%d] (%s): %w", i, l.Dir, err)
		}
		layer, err := tarball.LayerFromFile(tarPath, tarball.WithMediaType(types.OCILayer), tarball.WithCompressedCaching)
		if err != nil {
			return err
		}
		if img, err = mutate.Append(img, mutate.Addendum{Layer: layer, History: v1.History{Created: v1.Time{Time: epoch}, CreatedBy: "ocibuild " + filepath.Base(l.Dir)}}); err != nil {
			return err
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cf = cf.DeepCopy()
	cf.Architecture, cf.OS, cf.Config = "amd64", "linux", s.Config
	cf.Created = v1.Time{Time: epoch}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return err
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	ref, err := name.NewTag(s.Tag)
	if err != nil {
		return fmt.Errorf("tag: %w", err)
	}
	if err := os.RemoveAll(s.Layout); err != nil {
		return err
	}
	p, err := layout.Write(s.Layout, empty.Index)
	if err != nil {
		return err
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": ref.String()})); err != nil {
		return err
	}
	if err := tarball.WriteToFile(s.Tarball, ref, img); err != nil {
		return err
	}
	for i := range s.Layers {
		os.Remove(filepath.Join(filepath.Dir(s.Layout), fmt.Sprintf("layer-%d.tar", i)))
	}
	fmt.Println(digest.String())
	return nil
}

// writeLayerTar writes dir as an uncompressed layer: entries in lexical order, owner uid:gid,
// mtime epoch, modes reduced to 0755/0644 (executable bits kept), symlinks and hard links as is.
func writeLayerTar(l layerSpec, owners map[string][2]int, out string) error {
	var paths []string
	err := filepath.WalkDir(l.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != l.Dir {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(paths)
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	for _, p := range paths {
		if err := addEntry(tw, l, owners, p); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return f.Close()
}

func addEntry(tw *tar.Writer, l layerSpec, owners map[string][2]int, p string) error {
	fi, err := os.Lstat(p)
	if err != nil {
		return err
	}
	rel, err := filepath.Rel(l.Dir, p)
	if err != nil {
		return err
	}
	link := ""
	if fi.Mode()&fs.ModeSymlink != 0 {
		if link, err = os.Readlink(p); err != nil {
			return err
		}
	}
	h, err := tar.FileInfoHeader(fi, link)
	if err != nil {
		return err
	}
	h.Name = filepath.ToSlash(rel)
	if fi.IsDir() {
		h.Name += "/"
	}
	h.Uid, h.Gid, h.Uname, h.Gname = l.UID, l.GID, "", ""
	if o, ok := owners[filepath.ToSlash(rel)]; ok {
		h.Uid, h.Gid = o[0], o[1]
	}
	h.ModTime, h.AccessTime, h.ChangeTime = epoch, time.Time{}, time.Time{}
	h.Format = tar.FormatPAX
	h.PAXRecords = nil
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		h.Mode = 0o777
	case fi.IsDir() || fi.Mode()&0o111 != 0:
		h.Mode = 0o755
	default:
		h.Mode = 0o644
	}
	if fi.IsDir() && fi.Mode()&fs.ModeSticky != 0 {
		h.Mode = 0o1777 // /tmp: everyone's, sticky
	}
	if !fi.Mode().IsRegular() && !fi.IsDir() && fi.Mode()&fs.ModeSymlink == 0 {
		return fmt.Errorf("%s: only files, directories and symlinks go in a layer", p)
	}
	if err := tw.WriteHeader(h); err != nil {
		return err
	}
	if fi.Mode().IsRegular() {
		src, err := os.Open(p)
		if err != nil {
			return err
		}
		defer src.Close()
		if _, err := io.Copy(tw, src); err != nil {
			return err
		}
	}
	return nil
}
