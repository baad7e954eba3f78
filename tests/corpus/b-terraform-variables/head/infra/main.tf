locals {
  monthly_gpu_cost = var.gpu_count * var.gpu_hourly_price * 730
}

resource "lambda_instance" "inference" {
  count         = var.gpu_count / var.gpus_per_instance
  instance_type = "gpu_1x_gh200"
  region        = var.region
  disk_size_gb  = var.root_disk_size_gb
}

resource "aws_instance" "gateway" {
  instance_type = "c7g.large"
  root_block_device {
    volume_size = 64
  }
}
