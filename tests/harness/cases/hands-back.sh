# timeout: 60
# Hands back 3 MiB of random bytes (every byte value, CR and LF among
# them) and their checksum: the host check finds them whole.
. /opt/dmirror/lib.sh
head -c 3145728 /dev/urandom > random.bin
md5sum random.bin > random.md5
hand_back random.bin random.md5
