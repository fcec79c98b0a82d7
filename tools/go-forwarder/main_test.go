package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestUUIDv7Shape(t *testing.T) {
	id := uuidV7()
	if len(id) != 36 || id[14] != '7' || !strings.ContainsRune("89ab", rune(id[19])) {
		t.Fatalf("not a v7 uuid: %s", id)
	}
}

func TestValidate(t *testing.T) {
	var in incoming
	_ = json.Unmarshal([]byte(`{"categoria":"belleza","producto_id":" BEL-1 ","precio":1.5,"cantidad_vendida":2}`), &in)
	s, errs := validate(in)
	if len(errs) != 0 || s.Categoria != "Belleza" || s.ProductoID != "BEL-1" {
		t.Fatalf("%+v %v", s, errs)
	}
	_ = json.Unmarshal([]byte(`{"categoria":0,"producto_id":"","precio":-1,"cantidad_vendida":0}`), &in)
	if _, errs := validate(in); len(errs) != 4 {
		t.Fatalf("want 4 errors, got %v", errs)
	}
}
