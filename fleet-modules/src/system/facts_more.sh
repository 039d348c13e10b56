# The rest of Ansible's default facts (facts_more.rs turns these items into them): the
# machine's identity (machine id, DMI, SSH host keys), virtualization, memory, processors,
# uptime and load, mounts, name servers, security modules and the kernel command line. Files
# are read with the `read` builtin; the one process is `stat -f`, for every mount's sizes.
line /etc/machine-id && kv machine_id "$l"
for f in bios_date bios_vendor bios_version board_asset_tag board_name board_serial board_vendor \
  board_version chassis_asset_tag chassis_serial chassis_vendor chassis_version chassis_type \
  product_name product_serial product_uuid product_version sys_vendor product_family; do
  line "/sys/devices/virtual/dmi/id/$f" 2>/dev/null && kv "dmi.$f" "$l"
done
[ -e /sys/devices/virtual/dmi/id/product_name ] && kv dmi.present 1
for d in /etc/ssh /etc/openssh /etc; do
  found=
  for a in dsa rsa ecdsa ed25519; do
    if [ -r "$d/ssh_host_${a}_key.pub" ]; then
      read -r t k _ < "$d/ssh_host_${a}_key.pub" && kv "sshkey.$a" "$t $k" && found=1
    fi
  done
  [ -z "$found" ] || break
done
# virtualization, as Ansible's LinuxVirtual looks for it
if [ -r /proc/1/cgroup ]; then
  while IFS= read -r l; do
    case $l in */docker/*|*/docker-*.scope*) kv virt.cg_docker 1 ;; esac
    case $l in */lxc/*|*/machine.slice/machine-lxc*) kv virt.cg_lxc 1 ;; esac
    case $l in */system.slice/containerd.service*) kv virt.cg_containerd 1 ;; esac
  done < /proc/1/cgroup
fi
[ -e /proc/vz ] && [ ! -e /proc/lve ] && kv virt.openvz "$([ -e /proc/bc ] && echo host || echo guest)"
line /run/systemd/container 2>/dev/null && [ -n "$l" ] && kv virt.systemd_container "$l"
{ [ -e /.dockerenv ] || [ -e /.dockerinit ]; } && kv virt.dockerenv 1
if [ -e /proc/xen ]; then
  x=guest
  if [ -r /proc/xen/capabilities ]; then
    while IFS= read -r l; do case $l in *control_d*) x=host ;; esac; done < /proc/xen/capabilities
  fi
  kv virt.xen "$x"
fi
if [ -r /proc/modules ]; then
  while read -r m _; do case $m in kvm|vboxdrv|virtio) kv "virt.mod_$m" 1 ;; esac; done < /proc/modules
fi
[ -e /dev/kvm ] && kv virt.dev_kvm 1
[ -d /sys/kernel/security/apparmor ] && kv apparmor 1
[ -e /sys/fs/selinux/enforce ] && { line /sys/fs/selinux/enforce; kv selinux.enforce "$l"; }
line /proc/uptime && kv uptime "$l"
line /proc/loadavg && kv loadavg "$l"
line /proc/cmdline && kv cmdline "$l"
[ -r /etc/iscsi/initiatorname.iscsi ] && while IFS= read -r l; do
  case $l in InitiatorName=*) kv iscsi_iqn "${l#InitiatorName=}" ;; esac
done < /etc/iscsi/initiatorname.iscsi
line /etc/nvme/hostnqn 2>/dev/null && kv hostnqn "$l"
if [ -d /sys/class/fc_host ]; then
  for h in /sys/class/fc_host/*/port_name; do line "$h" && kv "fcwwn.$h" "$l"; done
fi
[ -r /etc/resolv.conf ] && while read -r k v rest; do
  case $k in nameserver|domain|search|sortlist|options) kv "dns.$k" "$v${rest:+ $rest}" ;; esac
done < /etc/resolv.conf
# local facts: Ansible's setup reads them (an empty or missing facts.d gives ansible_local {})
for f in /etc/ansible/facts.d/*.fact; do [ -e "$f" ] && { kv facts_d 1; break; }; done
# root's inode is 2 outside a chroot (Ansible's fallback when /proc/1/root is not comparable)
if [ / -ef /proc/1/root/. ] 2>/dev/null; then kv chroot 0
elif [ -r /proc/1/root/. ]; then kv chroot 1; fi
# mounts: /proc/mounts, and every real one's sizes from one `stat -f`
if [ -r /proc/mounts ]; then
  n=1000 set --
  while read -r dev mnt fs opts dump pass; do
    case $dev in /*|\\*|*:/*) ;; *) [ "$fs" = none ] || continue ;; esac
    n=$((n + 1)); kv "mnt.$n" "$dev $mnt $fs $opts $dump $pass"
    set -- "$@" "$(printf '%b' "$mnt")"
  done < /proc/mounts
  [ $# -eq 0 ] || stat -f -c 'mntsize=%S %s %b %a %f %c %d %n' -- "$@" 2>/dev/null
fi
if [ -d /dev/disk/by-uuid ]; then
  for u in /dev/disk/by-uuid/*; do [ -L "$u" ] && kv "uuid.${u##*/}" "$(readlink -f "$u")"; done
fi
