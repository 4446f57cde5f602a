package pdfsplit

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/md5"
	"crypto/rc4"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// The repair layer decrypts files itself when pdfcpu cannot: pdfcpu skips
// an empty owner password for revisions 5 and 6, refuses a crypt filter
// without /Length, and loads objects before its key exists when it rebuilds
// a broken cross-reference table. This is the Standard security handler of
// ISO 32000-2, 7.6.4: RC4 of 40 to 128 bits (V 1, 2, 4), AESV2 (V 4) and
// AESV3 (V 5, R 5 and 6). Public-key handlers are not supported.

// cryptMethod is how one class of data (streams, strings, a named crypt
// filter) is encrypted.
type cryptMethod int

const (
	cryptNone cryptMethod = iota // Identity: stored in the clear
	cryptRC4
	cryptAESV2
	cryptAESV3
)

// security is an opened Standard security handler: the file key and the
// method for each class of data.
type security struct {
	r          int
	key        []byte // the file encryption key
	stm, str   cryptMethod
	filters    map[string]cryptMethod // /CF entries, for streams that name a /Crypt filter
	encryptMD  bool                   // /EncryptMetadata: false leaves /Metadata streams in the clear
	ownerFound bool                   // the password opened the file as its owner password
}

var errNoPassword = errors.New("the password does not open the file")

// passwordPad is the padding of ISO 32000-2, 7.6.4.3.2, Algorithm 2, step a.
var passwordPad = []byte{
	0x28, 0xbf, 0x4e, 0x5e, 0x4e, 0x75, 0x8a, 0x41, 0x64, 0x00, 0x4e, 0x56, 0xff, 0xfa, 0x01, 0x08,
	0x2e, 0x2e, 0x00, 0xb6, 0xd0, 0x68, 0x3e, 0x80, 0x2f, 0x0c, 0xa9, 0xfe, 0x64, 0x53, 0x69, 0x7a,
}

// openSecurity opens the encryption dictionary enc (references already
// resolved) with password, tried as the user and then as the owner
// password. id0 is the first element of the trailer's /ID. It returns
// errNoPassword when the password opens nothing, and another error for a
// handler it does not support.
func openSecurity(enc types.Dict, id0 []byte, password string) (*security, error) {
	if f := enc.NameEntry("Filter"); f == nil || *f != "Standard" {
		return nil, errors.New("the security handler is not the Standard one")
	}
	v, r := intEntry(enc, "V", 0), intEntry(enc, "R", 0)
	o, u := stringData(enc["O"]), stringData(enc["U"])
	s := &security{r: r, encryptMD: true, filters: map[string]cryptMethod{}}
	if b, ok := enc["EncryptMetadata"].(types.Boolean); ok {
		s.encryptMD = bool(b)
	}
	// The key lengths to try, in bytes: /Length when it is plausible (some
	// writers give bytes instead of bits), then the defaults. Authentication
	// depends on the length, so the wrong ones fail.
	var lengths []int
	addLength := func(n int) {
		if n >= 8*5 && n <= 8*16 && n%8 == 0 {
			n /= 8
		}
		if n >= 5 && n <= 16 {
			lengths = append(lengths, n)
		}
	}
	addLength(intEntry(enc, "Length", 0))
	switch v {
	case 1, 2, 3:
		s.stm, s.str = cryptRC4, cryptRC4
	case 4:
		err := s.cryptFilters(enc, func(cfm string, fd types.Dict) (cryptMethod, error) {
			switch cfm {
			case "None":
				return cryptNone, nil
			case "V2":
				addLength(intEntry(fd, "Length", 0))
				return cryptRC4, nil
			case "AESV2":
				return cryptAESV2, nil
			}
			return 0, errors.New("unsupported crypt filter method " + cfm)
		})
		if err != nil {
			return nil, err
		}
		if s.stm == cryptAESV2 || s.str == cryptAESV2 {
			lengths = append([]int{16}, lengths...)
		}
	case 5:
		err := s.cryptFilters(enc, func(cfm string, _ types.Dict) (cryptMethod, error) {
			switch cfm {
			case "None":
				return cryptNone, nil
			case "AESV3":
				return cryptAESV3, nil
			}
			return 0, errors.New("unsupported crypt filter method " + cfm)
		})
		if err != nil {
			return nil, err
		}
		return s, s.openAES256(enc, o, u, password)
	default:
		return nil, errors.New("unsupported encryption version")
	}
	// /O and /U are 32 bytes (ISO 32000-1 7.6.3.2, Table 21). Revisions 3
	// and 4 authenticate against the first 16 bytes of /U only, and a
	// shorter one is read; revision 2 compares all 32 (Algorithm 4).
	if r < 2 || r > 4 || len(o) < 32 || len(u) < 16 || r == 2 && len(u) < 32 {
		return nil, errors.New("malformed encryption dictionary")
	}
	lengths = append(lengths, 5, 16)
	p := uint32(intEntry(enc, "P", 0))
	tried := map[int]bool{}
	for _, n := range lengths {
		if r == 2 {
			n = 5
		}
		if tried[n] {
			continue
		}
		tried[n] = true
		if key := s.userKey(pad(password), o, u, p, id0, n); key != nil {
			s.key = key
			return s, nil
		}
		if key := s.userKey(s.ownerToUser(password, o, n), o, u, p, id0, n); key != nil {
			s.key, s.ownerFound = key, true
			return s, nil
		}
	}
	return nil, errNoPassword
}

// cryptFilters reads the crypt filters of /CF (ISO 32000-1 7.6.5, Tables
// 20 and 25), each through method, which maps its /CFM ("None" when
// absent) to a method or refuses it, then takes the stream and string
// methods from /StmF and /StrF. A filter that is not a dictionary, or a
// /StmF or /StrF that names neither Identity nor a filter of /CF, is an
// error: read as Identity, its streams or strings would be published as
// the ciphertext they are.
func (s *security) cryptFilters(enc types.Dict, method func(cfm string, fd types.Dict) (cryptMethod, error)) error {
	cf, _ := enc["CF"].(types.Dict)
	for name, fv := range cf {
		fd, ok := fv.(types.Dict)
		if !ok {
			return errors.New("the crypt filter " + name + " is not a dictionary")
		}
		cfm := "None"
		if n := fd.NameEntry("CFM"); n != nil {
			cfm = *n
		}
		m, err := method(cfm, fd)
		if err != nil {
			return err
		}
		s.filters[name] = m
	}
	for _, k := range []string{"StmF", "StrF"} {
		if n := enc.NameEntry(k); n != nil && *n != "Identity" {
			if _, ok := s.filters[*n]; !ok {
				return fmt.Errorf("/%s names the crypt filter %s, which /CF does not define", k, *n)
			}
		}
	}
	s.stm, s.str = s.filterMethod(enc.NameEntry("StmF")), s.filterMethod(enc.NameEntry("StrF"))
	return nil
}

// filterMethod is the method of the crypt filter named name (Identity when
// absent).
func (s *security) filterMethod(name *string) cryptMethod {
	if name == nil || *name == "Identity" {
		return cryptNone
	}
	return s.filters[*name]
}

func pad(password string) []byte {
	return append([]byte(password), passwordPad...)[:32]
}

// userKey computes the file key from a padded user password (Algorithm 2)
// and returns it if it authenticates against /U (Algorithms 4 and 5).
func (s *security) userKey(padded, o, u []byte, p uint32, id0 []byte, n int) []byte {
	h := md5.New()
	h.Write(padded)
	h.Write(o[:32])
	h.Write(binary.LittleEndian.AppendUint32(nil, p))
	h.Write(id0)
	if s.r >= 4 && !s.encryptMD {
		h.Write([]byte{0xff, 0xff, 0xff, 0xff})
	}
	sum := h.Sum(nil)
	if s.r >= 3 {
		for range 50 {
			d := md5.Sum(sum[:n])
			sum = d[:]
		}
	}
	key := sum[:n]
	if s.r == 2 {
		if bytes.Equal(rc4Apply(key, passwordPad), u[:32]) {
			return key
		}
		return nil
	}
	h = md5.New()
	h.Write(passwordPad)
	h.Write(id0)
	x := rc4Apply(key, h.Sum(nil))
	for i := 1; i <= 19; i++ {
		x = rc4Apply(xorKey(key, byte(i)), x)
	}
	if bytes.Equal(x, u[:16]) {
		return key
	}
	return nil
}

// ownerToUser recovers the padded user password from /O with an owner
// password (Algorithm 7).
func (s *security) ownerToUser(password string, o []byte, n int) []byte {
	sum := md5.Sum(pad(password))
	if s.r >= 3 {
		for range 50 {
			sum = md5.Sum(sum[:])
		}
	}
	key := sum[:n]
	if s.r == 2 {
		return rc4Apply(key, o[:32])
	}
	x := bytes.Clone(o[:32])
	for i := 19; i >= 0; i-- {
		x = rc4Apply(xorKey(key, byte(i)), x)
	}
	return x
}

// openAES256 authenticates password for revisions 5 and 6 (Algorithms 2.A,
// 11 and 12), as the owner password first, and sets the file key.
func (s *security) openAES256(enc types.Dict, o, u []byte, password string) error {
	oe, ue := stringData(enc["OE"]), stringData(enc["UE"])
	if (s.r != 5 && s.r != 6) || len(o) < 48 || len(u) < 48 || len(oe) < 32 || len(ue) < 32 {
		return errors.New("malformed AES-256 encryption dictionary")
	}
	pw := []byte(password)
	if len(pw) > 127 {
		pw = pw[:127]
	}
	switch {
	case bytes.Equal(s.hash6(pw, o[32:40], u[:48]), o[:32]):
		s.key, s.ownerFound = aesNoIV(s.hash6(pw, o[40:48], u[:48]), oe[:32]), true
	case bytes.Equal(s.hash6(pw, u[32:40], nil), u[:32]):
		s.key = aesNoIV(s.hash6(pw, u[40:48], nil), ue[:32])
	default:
		return errNoPassword
	}
	if !permsValid(s.key, stringData(enc["Perms"])) {
		return errPerms
	}
	return nil
}

// errPerms: the file key a revision 5 or 6 password unwraps does not
// decrypt /Perms (a damaged /OE or /UE): every stream and string would be
// decrypted into garbage.
var errPerms = errors.New("/Perms does not validate with the file key /OE or /UE gives (ISO 32000-2 7.6.4.4.12, Algorithm 13)")

// permsValid reports whether perms, the encryption dictionary's /Perms,
// decrypts with key (AES-256, ECB) to bytes 9-11 "adb" (ISO 32000-2
// 7.6.4.4.12, Algorithm 13, step b). A /Perms absent or shorter than 16
// bytes cannot be checked and is not held against the file (qpdf warns).
func permsValid(key, perms []byte) bool {
	if len(perms) < 16 || len(key) != 32 {
		return true
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return false
	}
	out := make([]byte, 16)
	block.Decrypt(out, perms[:16])
	return string(out[9:12]) == "adb"
}

// hash6 is the hash of Algorithm 2.B (revision 6) or the plain SHA-256 of
// revision 5.
func (s *security) hash6(pw, salt, udata []byte) []byte {
	h := sha256.New()
	h.Write(pw)
	h.Write(salt)
	h.Write(udata)
	k := h.Sum(nil)
	if s.r == 5 {
		return k
	}
	var e []byte
	for i := 0; ; i++ {
		k1 := make([]byte, 0, 64*(len(pw)+len(k)+len(udata)))
		for range 64 {
			k1 = append(k1, pw...)
			k1 = append(k1, k...)
			k1 = append(k1, udata...)
		}
		block, _ := aes.NewCipher(k[:16])
		e = make([]byte, len(k1))
		cipher.NewCBCEncrypter(block, k[16:32]).CryptBlocks(e, k1)
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
			break
		}
	}
	return k[:32]
}

// aesNoIV decrypts the 32-byte /OE or /UE with AES-256 in CBC mode and a
// zero IV.
func aesNoIV(key, data []byte) []byte {
	block, _ := aes.NewCipher(key)
	out := make([]byte, 32)
	cipher.NewCBCDecrypter(block, make([]byte, 16)).CryptBlocks(out, data[:32])
	return out
}

func rc4Apply(key, data []byte) []byte {
	c, _ := rc4.NewCipher(key)
	out := make([]byte, len(data))
	c.XORKeyStream(out, data)
	return out
}

func xorKey(key []byte, b byte) []byte {
	out := make([]byte, len(key))
	for i, k := range key {
		out[i] = k ^ b
	}
	return out
}

// decrypt returns data, encrypted with method m in object nr gen, in the
// clear (Algorithm 1 for RC4 and AESV2; the file key itself for AESV3).
// AES data that is not whole blocks after its IV is damaged: what decrypts
// is kept.
func (s *security) decrypt(m cryptMethod, nr, gen int, data []byte) []byte {
	if m == cryptNone {
		return data
	}
	key := s.key
	if m != cryptAESV3 {
		h := md5.New()
		h.Write(s.key)
		h.Write([]byte{byte(nr), byte(nr >> 8), byte(nr >> 16), byte(gen), byte(gen >> 8)})
		if m == cryptAESV2 {
			h.Write([]byte("sAlT"))
		}
		key = h.Sum(nil)[:min(len(s.key)+5, 16)]
	}
	if m == cryptRC4 {
		return rc4Apply(key, data)
	}
	if len(data) < 32 {
		return nil // an IV and at least one block
	}
	block, _ := aes.NewCipher(key)
	body := data[16 : 16+(len(data)-16)/16*16]
	out := make([]byte, len(body))
	cipher.NewCBCDecrypter(block, data[:16]).CryptBlocks(out, body)
	if n := int(out[len(out)-1]); n >= 1 && n <= 16 && bytes.Count(out[len(out)-n:], out[len(out)-1:]) == n {
		out = out[:len(out)-n]
	}
	return out
}

// decryptStrings replaces every string in o (an object of number nr gen,
// not in an object stream) by its clear text, as a hex string.
func (s *security) decryptStrings(o types.Object, nr, gen int) types.Object {
	switch o := o.(type) {
	case types.StringLiteral:
		b, err := types.Unescape(string(o))
		if err != nil {
			return o
		}
		return types.NewHexLiteral(s.decrypt(s.str, nr, gen, b))
	case types.HexLiteral:
		b, err := o.Bytes()
		if err != nil {
			return o
		}
		return types.NewHexLiteral(s.decrypt(s.str, nr, gen, b))
	case types.Dict:
		for k, v := range o {
			o[k] = s.decryptStrings(v, nr, gen)
		}
	case types.Array:
		for i, v := range o {
			o[i] = s.decryptStrings(v, nr, gen)
		}
	}
	return o
}

// stringData is the bytes of a string object, nil for anything else.
func stringData(o types.Object) []byte {
	switch o := o.(type) {
	case types.StringLiteral:
		b, err := types.Unescape(string(o))
		if err == nil {
			return b
		}
	case types.HexLiteral:
		b, err := o.Bytes()
		if err == nil {
			return b
		}
	}
	return nil
}

// intEntry is d[key] as an int, or def.
func intEntry(d types.Dict, key string, def int) int {
	switch v := d[key].(type) {
	case types.Integer:
		return int(v)
	case types.Float:
		return int(v)
	}
	return def
}
