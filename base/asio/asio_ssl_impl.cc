// Asio's SSL layer (OpenSSL), compiled once for the libraries that use it
// (see BOOST_ASIO_SEPARATE_COMPILATION in the top-level CMakeLists.txt);
// asio_impl.cc compiles the rest of Asio without OpenSSL, so that only the
// users of TLS link libssl.
#include <boost/asio/ssl/impl/src.hpp>
