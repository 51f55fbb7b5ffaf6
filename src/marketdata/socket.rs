//! UDP sockets of the market-data channels. Multicast never leaves the host: every sending
//! socket sets IP_MULTICAST_IF 127.0.0.1, TTL 0 and IP_MULTICAST_LOOP; receivers join the
//! group on 127.0.0.1.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::os::fd::{AsRawFd, FromRawFd};

/// Receive buffer asked for on receiving sockets (the kernel may grant less).
pub const RECV_BUFFER_BYTES: usize = 16 << 20;

/// A socket bound to 127.0.0.1 for sending, with the multicast options set so that multicast
/// stays on loopback.
///
/// # Errors
/// The socket cannot be created or an option refused.
pub fn sender() -> io::Result<UdpSocket> {
    let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
    set_multicast_if(&socket, Ipv4Addr::LOCALHOST)?;
    socket.set_multicast_ttl_v4(0)?;
    socket.set_multicast_loop_v4(true)?;
    Ok(socket)
}

/// A socket receiving `group`:`port` on loopback. Several may share the port (SO_REUSEADDR),
/// each getting every datagram.
///
/// # Errors
/// The socket cannot be created, bound or joined to the group.
pub fn multicast_receiver(group: Ipv4Addr, port: u16) -> io::Result<UdpSocket> {
    let socket = reusable_socket(SocketAddrV4::new(group, port))?;
    socket.join_multicast_v4(&group, &Ipv4Addr::LOCALHOST)?;
    Ok(socket)
}

/// A socket receiving unicast datagrams on `addr` (a loopback address; port 0 picks one).
///
/// # Errors
/// The socket cannot be created or bound.
pub fn unicast_receiver(addr: SocketAddrV4) -> io::Result<UdpSocket> {
    reusable_socket(addr)
}

fn reusable_socket(addr: SocketAddrV4) -> io::Result<UdpSocket> {
    // SAFETY: plain socket(2) call; the returned descriptor is checked and then owned by the
    // UdpSocket built from it below, which closes it.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a fresh, valid socket descriptor that nothing else owns.
    let socket = unsafe { UdpSocket::from_raw_fd(fd) };
    set_int(&socket, libc::SOL_SOCKET, libc::SO_REUSEADDR, 1)?;
    let size = RECV_BUFFER_BYTES as libc::c_int;
    // Root may exceed rmem_max (SO_RCVBUFFORCE); otherwise the kernel caps SO_RCVBUF.
    if set_int(&socket, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, size).is_err() {
        set_int(&socket, libc::SOL_SOCKET, libc::SO_RCVBUF, size)?;
    }
    let sockaddr = libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: addr.port().to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from_ne_bytes(addr.ip().octets()),
        },
        sin_zero: [0; 8],
    };
    // SAFETY: `sockaddr` is a valid sockaddr_in that lives across the call, and the length
    // passed is its size.
    let rc = unsafe {
        libc::bind(
            socket.as_raw_fd(),
            std::ptr::addr_of!(sockaddr).cast(),
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(socket)
}

fn set_multicast_if(socket: &UdpSocket, interface: Ipv4Addr) -> io::Result<()> {
    let addr = libc::in_addr {
        s_addr: u32::from_ne_bytes(interface.octets()),
    };
    setsockopt(socket, libc::IPPROTO_IP, libc::IP_MULTICAST_IF, &addr)
}

fn set_int(socket: &UdpSocket, level: i32, name: i32, value: libc::c_int) -> io::Result<()> {
    setsockopt(socket, level, name, &value)
}

fn setsockopt<T>(socket: &UdpSocket, level: i32, name: i32, value: &T) -> io::Result<()> {
    // SAFETY: `value` points to a live `T` of the size passed; the descriptor is owned by
    // `socket` for the duration of the call.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            level,
            name,
            (value as *const T).cast(),
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Where one channel's packets go.
#[derive(Clone, Debug)]
pub struct Destinations {
    pub targets: Vec<SocketAddr>,
}

impl Destinations {
    /// Every destination of a channel on `port`: the group, or each unicast host. Only
    /// loopback hosts and site-local groups (239.255.0.0/16) are accepted.
    ///
    /// # Errors
    /// A destination that could leave the host.
    pub fn new(multicast: Option<Ipv4Addr>, hosts: &[Ipv4Addr], port: u16) -> io::Result<Self> {
        let targets: Vec<SocketAddr> = match multicast {
            Some(group) => vec![SocketAddr::from((group, port))],
            None => hosts.iter().map(|h| SocketAddr::from((*h, port))).collect(),
        };
        for target in &targets {
            let SocketAddr::V4(v4) = target else {
                return Err(io::Error::other(
                    "IPv6 market data destinations are not supported",
                ));
            };
            let [a, b, ..] = v4.ip().octets();
            let local = v4.ip().is_loopback() || (a, b) == (239, 255);
            if !local {
                return Err(io::Error::other(format!(
                    "destination {target} could leave the host: loopback or 239.255.0.0/16 only"
                )));
            }
        }
        Ok(Destinations { targets })
    }
}
