# Removes everything a real node left on this machine, whether it stopped cleanly or was killed:
# processes, mounts, cgroups, iptables chains, the bridge, files. Safe to run any number of times.
# The node's directory comes in $BROKERAGE_NODE_DIR (not as an argument, so that this shell's own
# command line never matches the process search below).
set -u
dir=${BROKERAGE_NODE_DIR:?}
bridge=brokerage0

# Processes: containerd's shims name the node's directory on their command lines; the containers'
# processes are in the node's cgroups. Kill until none is left (a dying shim may reap late).
for attempt in 1 2 3 4 5 6 7 8 9 10; do
  found=
  for proc in /proc/[0-9]*; do
    pid=${proc#/proc/}
    [ "$pid" = "$$" ] && continue
    if { tr '\0' ' ' <"$proc/cmdline"; } 2>/dev/null | grep -qF -- "$dir/"; then
      kill -9 "$pid" 2>/dev/null && found=1
    fi
  done
  for procs in $(find /sys/fs/cgroup/*/brokerage -name cgroup.procs 2>/dev/null); do
    for pid in $(cat "$procs" 2>/dev/null); do
      kill -9 "$pid" 2>/dev/null && found=1
    done
  done
  [ -z "$found" ] && break
  sleep 0.2
done

# Mounts under the node's directory, deepest first: container root filesystems, volumes,
# network namespaces (their veths go with them).
grep -F " $dir/" /proc/self/mounts | cut -d' ' -f2 | sort -r | while read -r mount; do
  umount -l "$mount" 2>/dev/null
done

# The pods' cgroups, deepest first.
for root in /sys/fs/cgroup/*/brokerage; do
  [ -d "$root" ] && find "$root" -depth -type d -exec rmdir {} \; 2>/dev/null
done

# iptables: the guard's chains and those kube-proxy and the kubelet made (KUBE-*): first the
# jumps from the built-in chains, then the chains themselves.
for iptables in iptables ip6tables; do
  for table in filter nat mangle; do
    $iptables -t $table -S 2>/dev/null |
      grep -E -- '^-A (INPUT|FORWARD|OUTPUT|PREROUTING|POSTROUTING) .*-j (KUBE-|BROKERAGE-)' |
      sed 's/^-A/-D/' | while read -r rule; do
        eval "$iptables -t $table $rule" 2>/dev/null
      done
    chains=$($iptables -t $table -S 2>/dev/null | sed -n 's/^-N \(KUBE-[^ ]*\|BROKERAGE-[^ ]*\)$/\1/p')
    for chain in $chains; do $iptables -t $table -F "$chain" 2>/dev/null; done
    for chain in $chains; do $iptables -t $table -X "$chain" 2>/dev/null; done
  done
done

ip link del "$bridge" 2>/dev/null

# Files: the kubelet's links to container logs, the CNI plugins' cache, the node's directory.
for link in /var/log/containers/*.log; do
  case $(readlink "$link" 2>/dev/null) in "$dir"/*) rm -f "$link" ;; esac
done
rm -rf /var/lib/cni/results/brokerage-* "$dir"
exit 0
