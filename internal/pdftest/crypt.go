package pdftest

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/md5"
	"crypto/rc4"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
)

// Encryption with the Standard security handler (ISO 32000-2, 7.6.4),
// written here rather than by pdfcpu's encryptor for the variants it does
// not write: an empty owner password with a user password, a missing key
// /Length, a crypt filter /Length in bytes. qpdf checks every file written
// with it (TestCorpus), so the code is tested against an implementation
// other than efspipe's.

// encSpec is an encryption to apply.
type encSpec struct {
	v, r int
	// bytes is the key length; method is "RC4", "AESV2" or "AESV3".
	bytes  int
	method string
	// user and owner are the passwords; an empty owner password is kept
	// empty (readers then open the file as its owner).
	user, owner string
	// length is the encryption dictionary's /Length entry as written,
	// cfLength the crypt filter's; "" leaves it out.
	length, cfLength string
	// clearMetadata sets /EncryptMetadata false: /Metadata streams stay
	// in the clear.
	clearMetadata bool
	// direct writes the encryption dictionary in the trailer itself, not
	// as an object: ISO 32000-1 7.5.5 (Table 15) allows either, and
	// pdfcpu reads only a reference.
	direct bool
	// xrefStream writes a cross-reference stream, not a table.
	xrefStream bool
	// indirectCF writes /CF and its crypt filter dictionary as objects of
	// their own.
	indirectCF bool
	// clearStreams and clearStrings (V 4 only) set /StmF or /StrF to
	// Identity: streams or strings stay in the clear (ISO 32000-1 7.6.5,
	// Table 20), as fpdf2 writes a file encrypted for its permissions
	// alone.
	clearStreams, clearStrings bool
	// damagedUE (revision 6) changes a byte of /UE, so the user
	// password unwraps a wrong file key; /Perms, encrypted with the
	// right one, no longer validates (ISO 32000-2 7.6.4.4.12,
	// Algorithm 13).
	damagedUE bool
	seed      uint64
}

var passwordPad = []byte{
	0x28, 0xbf, 0x4e, 0x5e, 0x4e, 0x75, 0x8a, 0x41, 0x64, 0x00, 0x4e, 0x56, 0xff, 0xfa, 0x01, 0x08,
	0x2e, 0x2e, 0x00, 0xb6, 0xd0, 0x68, 0x3e, 0x80, 0x2f, 0x0c, 0xa9, 0xfe, 0x64, 0x53, 0x69, 0x7a,
}

const permissions = -4 // every permission

// permissionBits is permissions as the 32 bits the key derivation hashes.
var permissionBits = uint32(0xfffffffc)

// crypter encrypts one file's strings and streams.
type crypter struct {
	spec encSpec
	key  []byte
	id0  []byte
	rng  rng
	dict string // the encryption dictionary
}

func rc4Apply(key, data []byte) []byte {
	c, _ := rc4.NewCipher(key)
	out := make([]byte, len(data))
	c.XORKeyStream(out, data)
	return out
}

func padPassword(pw string) []byte { return append([]byte(pw), passwordPad...)[:32] }

func newCrypter(spec encSpec) *crypter {
	c := &crypter{spec: spec, rng: rng(spec.seed)}
	c.id0 = c.random(16)
	if spec.r >= 5 {
		c.setupAES256()
	} else {
		c.setupRC4MD5()
	}
	return c
}

func (c *crypter) random(n int) []byte {
	out := make([]byte, 0, n+8)
	for len(out) < n {
		out = binary.LittleEndian.AppendUint64(out, c.rng.next())
	}
	return out[:n]
}

// setupRC4MD5 computes /O, the file key and /U for revisions 2 to 4
// (Algorithms 3, 2, 4 and 5).
func (c *crypter) setupRC4MD5() {
	s, n := c.spec, c.spec.bytes
	owner := s.owner
	if owner == "" {
		owner = s.user
	}
	sum := md5.Sum(padPassword(owner))
	if s.r >= 3 {
		for range 50 {
			sum = md5.Sum(sum[:])
		}
	}
	o := rc4Apply(sum[:n], padPassword(s.user))
	if s.r >= 3 {
		for i := 1; i <= 19; i++ {
			o = rc4Apply(xorBytes(sum[:n], byte(i)), o)
		}
	}
	h := md5.New()
	h.Write(padPassword(s.user))
	h.Write(o)
	h.Write(binary.LittleEndian.AppendUint32(nil, uint32(permissionBits)))
	h.Write(c.id0)
	if s.r >= 4 && s.clearMetadata {
		h.Write([]byte{0xff, 0xff, 0xff, 0xff})
	}
	key := h.Sum(nil)
	if s.r >= 3 {
		for range 50 {
			d := md5.Sum(key[:n])
			key = d[:]
		}
	}
	c.key = key[:n]
	var u []byte
	if s.r == 2 {
		u = rc4Apply(c.key, passwordPad)
	} else {
		h := md5.New()
		h.Write(passwordPad)
		h.Write(c.id0)
		u = rc4Apply(c.key, h.Sum(nil))
		for i := 1; i <= 19; i++ {
			u = rc4Apply(xorBytes(c.key, byte(i)), u)
		}
		u = append(u, make([]byte, 16)...)
	}
	cf := ""
	if s.v == 4 {
		stmF, strF := "StdCF", "StdCF"
		if s.clearStreams {
			stmF = "Identity"
		}
		if s.clearStrings {
			strF = "Identity"
		}
		cf = fmt.Sprintf(" /CF <</StdCF <</AuthEvent /DocOpen /CFM /%s%s>>>> /StmF /%s /StrF /%s", map[string]string{"RC4": "V2", "AESV2": "AESV2"}[s.method], s.cfLength, stmF, strF)
	}
	c.dict = fmt.Sprintf("<</Filter /Standard /V %d /R %d%s /O <%x> /U <%x> /P %d%s%s>>", s.v, s.r, s.length, o, u, permissions, cf, c.metadataEntry())
}

func (c *crypter) metadataEntry() string {
	if c.spec.clearMetadata {
		return " /EncryptMetadata false"
	}
	return ""
}

// setupAES256 computes /U, /UE, /O, /OE and /Perms for revision 6
// (Algorithms 8, 9 and 10).
func (c *crypter) setupAES256() {
	s := c.spec
	c.key = c.random(32)
	uvs, uks, ovs, oks := c.random(8), c.random(8), c.random(8), c.random(8)
	u := append(append(hash6([]byte(s.user), uvs, nil), uvs...), uks...)
	ue := aesCBC(hash6([]byte(s.user), uks, nil), make([]byte, 16), c.key)
	o := append(append(hash6([]byte(s.owner), ovs, u), ovs...), oks...)
	oe := aesCBC(hash6([]byte(s.owner), oks, u), make([]byte, 16), c.key)
	perms := binary.LittleEndian.AppendUint32(nil, uint32(permissionBits))
	perms = append(perms, 0xff, 0xff, 0xff, 0xff)
	if s.clearMetadata {
		perms = append(perms, 'F')
	} else {
		perms = append(perms, 'T')
	}
	perms = append(append(perms, "adb"...), c.random(4)...)
	block, _ := aes.NewCipher(c.key)
	block.Encrypt(perms, perms)
	if s.damagedUE {
		ue[7] ^= 0x5a
	}
	c.dict = fmt.Sprintf("<</Filter /Standard /V 5 /R 6 /Length 256 /CF <</StdCF <</AuthEvent /DocOpen /CFM /AESV3 /Length 32>>>> /StmF /StdCF /StrF /StdCF /O <%x> /U <%x> /OE <%x> /UE <%x> /P %d /Perms <%x>%s>>",
		o, u, oe, ue, permissions, perms, c.metadataEntry())
}

// hash6 is the hash of Algorithm 2.B (revision 6).
func hash6(pw, salt, udata []byte) []byte {
	h := sha256.New()
	h.Write(pw)
	h.Write(salt)
	h.Write(udata)
	k := h.Sum(nil)
	for i := 0; ; i++ {
		k1 := bytes.Repeat(append(append(append([]byte{}, pw...), k...), udata...), 64)
		e := aesCBC(k[:16], k[16:32], k1)
		sum := 0
		for _, b := range e[:16] {
			sum += int(b)
		}
		var next hash.Hash
		switch sum % 3 {
		case 0:
			next = sha256.New()
		case 1:
			next = sha512.New384()
		default:
			next = sha512.New()
		}
		next.Write(e)
		k = next.Sum(nil)
		if i >= 63 && int(e[len(e)-1]) <= i-31 {
			return k[:32]
		}
	}
}

// aesCBC encrypts whole blocks without padding.
func aesCBC(key, iv, data []byte) []byte {
	block, _ := aes.NewCipher(key)
	out := make([]byte, len(data))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(out, data)
	return out
}

func xorBytes(key []byte, b byte) []byte {
	out := make([]byte, len(key))
	for i, k := range key {
		out[i] = k ^ b
	}
	return out
}

// encrypt encrypts data of object nr (generation 0) (Algorithm 1).
func (c *crypter) encrypt(nr int, data []byte) []byte {
	key := c.key
	if c.spec.method != "AESV3" {
		h := md5.New()
		h.Write(c.key)
		h.Write([]byte{byte(nr), byte(nr >> 8), byte(nr >> 16), 0, 0})
		if c.spec.method == "AESV2" {
			h.Write([]byte("sAlT"))
		}
		key = h.Sum(nil)[:min(len(c.key)+5, 16)]
	}
	if c.spec.method == "RC4" {
		return rc4Apply(key, data)
	}
	n := 16 - len(data)%16
	padded := append(bytes.Clone(data), bytes.Repeat([]byte{byte(n)}, n)...)
	iv := c.random(16)
	return append(iv, aesCBC(key, iv, padded)...)
}

// str is s encrypted in object nr, as a hex string.
func (c *crypter) str(nr int, s string) string {
	if c.spec.clearStrings {
		return "<" + hex.EncodeToString([]byte(s)) + ">"
	}
	return "<" + hex.EncodeToString(c.encrypt(nr, []byte(s))) + ">"
}

// stream is the data of stream nr as stored.
func (c *crypter) stream(nr int, data []byte) []byte {
	if c.spec.clearStreams {
		return data
	}
	return c.encrypt(nr, data)
}

// trailer is the trailer entries an encrypted file adds; enc is the
// encryption dictionary's object number, unused when it is direct.
func (c *crypter) trailer(enc int) string {
	if c.spec.direct {
		return fmt.Sprintf(" /Encrypt %s /ID [<%x> <%x>]", c.dict, c.id0, c.id0)
	}
	return fmt.Sprintf(" /Encrypt %d 0 R /ID [<%x> <%x>]", enc, c.id0, c.id0)
}
