package testenv

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/blackfriday-operator/go-services/internal/aggregates"
	"github.com/blackfriday-operator/go-services/internal/sale"
	pb "github.com/blackfriday-operator/go-services/proto"
)

// Sales makes n valid sales over every category and productsPerCategory products each, with
// prices in cents (like a real catalogue) and deterministic for a seed.
func Sales(n, productsPerCategory int, seed uint64) []*pb.ProductSaleRequest {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	prefix := [4]string{"ELE", "ROP", "HOG", "BEL"}
	out := make([]*pb.ProductSaleRequest, n)
	for i := range out {
		c := r.IntN(4)
		out[i] = &pb.ProductSaleRequest{
			Categoria:       pb.CategoriaProducto(c + 1),
			ProductoId:      fmt.Sprintf("%s-%03d", prefix[c], r.IntN(productsPerCategory)+1),
			Precio:          math.Round((1+r.Float64()*2000)*100) / 100,
			CantidadVendida: int32(r.IntN(10) + 1),
		}
	}
	return out
}

// AsAggregates turns sales into the consumer's form with a unique fake position each (the
// expectation model only needs positions to be distinct).
func AsAggregates(sales []*pb.ProductSaleRequest) []aggregates.Sale {
	out := make([]aggregates.Sale, len(sales))
	for i, s := range sales {
		out[i] = aggregates.Sale{
			Partition: 0, Offset: int64(i),
			Categoria: sale.CategoryName(s.Categoria), ProductoID: s.ProductoId,
			Precio: s.Precio, Cantidad: s.CantidadVendida,
		}
	}
	return out
}
