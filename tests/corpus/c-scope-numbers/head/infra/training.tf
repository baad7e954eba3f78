resource "aws_instance" "trainer" {
  count                = 2
  ami                  = data.aws_ami.dlami.id
  instance_type        = "p5.48xlarge"
  placement_group      = aws_placement_group.efa.id
  iam_instance_profile = aws_iam_instance_profile.trainer.name

  root_block_device {
    volume_type = "gp3"
    volume_size = 500
    throughput  = 1000
    iops        = 10000
  }
}

resource "aws_ebs_volume" "checkpoints" {
  availability_zone = aws_instance.trainer[0].availability_zone
  type              = "gp3"
  size              = 4000
  throughput        = 1000
  iops              = 16000
}
