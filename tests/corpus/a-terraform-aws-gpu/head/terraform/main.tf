provider "aws" {
  region = var.region
}

# Upgrade from A100 (p4d.24xlarge) to H100: same AMI family, twice the throughput.
data "aws_ami" "dlami" {
  most_recent = true
  owners      = ["amazon"]
  filter {
    name   = "architecture"
    values = ["x86_64"]
  }
}

resource "aws_instance" "trainer" {
  count         = 1
  ami           = data.aws_ami.dlami.id
  instance_type = var.gpu_instance_type

  root_block_device {
    volume_size = 2000
  }

  tags = {
    Name = "trainer"
    Gpu  = "H200"
  }
}

resource "aws_instance" "eval" {
  ami           = data.aws_ami.dlami.id
  instance_type = "p5.48xlarge"
  user_data     = <<-EOT
    #!/bin/bash
    curl -fsSLo /usr/local/bin/kubectl https://dl.k8s.io/release/v1.30.0/bin/linux/arm64/kubectl
  EOT
}
