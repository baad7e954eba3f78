package pricing

// GPUsPerInstance returns the GPU count and model of the EC2 instance types lumen can schedule on.
func GPUsPerInstance(instanceType string) (int, string, bool) {
	switch instanceType {
	case "g4dn.12xlarge":
		return 4, "T4", true
	case "g5.12xlarge", "g5.24xlarge":
		return 4, "A10G", true
	case "g5.48xlarge":
		return 8, "A10G", true
	case "g6.12xlarge":
		return 4, "L4", true
	case "g6e.12xlarge":
		return 4, "L40S", true
	case "p4d.24xlarge":
		return 8, "A100", true
	case "p5.48xlarge":
		return 8, "H100", true
	}
	return 0, "", false
}

// onDemandUSD holds us-east-1 on-demand list prices per instance-hour (March 2025).
var onDemandUSD = map[string]float64{
	"g4dn.12xlarge": 3.912,
	"g5.12xlarge":   5.672,
	"g6.12xlarge":   4.6016,
	"g6e.12xlarge":  10.49264,
	"p4d.24xlarge":  32.7726,
	"p5.48xlarge":   98.32,
}
