// Package zpage compresses pages as standalone zstd frames that share a raw
// content dictionary.
//
// Invariant: every frame it writes is a complete zstd frame with dictionary
// ID 0, restorable on its own by the standard CLI (`zstd -d -D dictionary`)
// or by Decoder, and the same page, dictionary and level always give the
// same bytes.
//
// Why a dictionary: splitting copies a document's shared resources (fonts,
// images) into every page, so per-page compression alone gains nothing
// (pages are already Flate-compressed; measured ratio 1.000-1.008). The
// redundancy is across pages, and a raw dictionary holding the shared
// resources recovers it while each page stays individually retrievable.
package zpage
