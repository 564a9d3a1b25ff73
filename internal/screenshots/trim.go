package main

import (
	"fmt"
	"image"
	"image/png"
	"os"
)

// trim cuts off the rows at the bottom of img that are all the colour of
// its bottom-left pixel (the page's background), keeping pad of them:
// chromium photographs a fixed window, taller than the content.
func trim(img image.Image, pad int) image.Image {
	b := img.Bounds()
	if b.Empty() {
		return img
	}
	bg := img.At(b.Min.X, b.Max.Y-1)
	br, bgG, bb, ba := bg.RGBA()
	last := b.Min.Y - 1
rows:
	for y := b.Max.Y - 1; y >= b.Min.Y; y-- {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := img.At(x, y).RGBA()
			if r != br || g != bgG || bl != bb || a != ba {
				last = y
				break rows
			}
		}
	}
	bottom := min(b.Max.Y, last+1+pad)
	if bottom <= b.Min.Y {
		bottom = b.Max.Y
	}
	sub, ok := img.(interface {
		SubImage(image.Rectangle) image.Image
	})
	if !ok {
		return img
	}
	return sub.SubImage(image.Rect(b.Min.X, b.Min.Y, b.Max.X, bottom))
}

func trimFile(path string, pad int) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("trim: %w", err)
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("trim %s: %w", path, err)
	}
	out, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("trim: %w", err)
	}
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(out, trim(img, pad)); err != nil {
		out.Close()
		return fmt.Errorf("trim %s: %w", path, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("trim %s: %w", path, err)
	}
	return nil
}
