# timeout: 60
# Hands back a file its host check then finds wrong.
. /opt/dmirror/lib.sh
echo guest > said.txt
hand_back said.txt
